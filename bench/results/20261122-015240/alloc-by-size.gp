set terminal pngcairo size 1100,560 font ',10'
set output 'alloc-by-size.png'
cols = "#d62728 #1f77b4 #ff7f0e #2ca02c #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf #393b79 #637939 #8c6d31 #843c39"
do for [i=1:14] { set linetype i linecolor rgb word(cols, i) linewidth 1.5 }
set title "allocation cost by size (warm, objects kept alive; median)"
set xlabel "object size (bytes)"
set ylabel "ns per allocation"
set logscale x 2
set logscale y 10
set key outside right top noenhanced
set grid
plot for [i=2:13] 'alloc-by-size.dat' using 1:i with linespoints \
     linetype (i-1) linewidth 2 title columnheader(i)
