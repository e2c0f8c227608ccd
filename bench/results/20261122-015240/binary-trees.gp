set terminal pngcairo size 1100,560 font ',10'
set output 'binary-trees.png'
cols = "#d62728 #1f77b4 #ff7f0e #2ca02c #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf #393b79 #637939 #8c6d31 #843c39"
do for [i=1:14] { set linetype i linecolor rgb word(cols, i) linewidth 1.5 }
set title "binary-trees depth 21: time and peak RSS (medians)"
set xlabel "peak RSS (MiB)"
set ylabel "seconds"
set grid
set key off
set offsets graph 0.05, graph 0.15, graph 0.08, graph 0.05
plot 'binary-trees.dat' using 1:2:4 with points pt 7 ps 2 linecolor variable, \
     '' using 1:2:3 with labels offset 1.2,0.6 left noenhanced
