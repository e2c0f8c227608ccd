set terminal pngcairo size 1100,560 font ',10'
set output 'decode-random.png'
cols = "#d62728 #1f77b4 #ff7f0e #2ca02c #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf #393b79 #637939 #8c6d31 #843c39"
do for [i=1:14] { set linetype i linecolor rgb word(cols, i) linewidth 1.5 }
set title "random pointer chase: ns per hop (lower is better)"
set xlabel "working set of the raw side (bytes)"
set ylabel "ns per hop"
set logscale xy
set grid
set key outside right top noenhanced
plot for [i=1:12] 'decode-random.dat' using 1:(column(i+1)) with linespoints title word("gcc/global:raw gcc/global:ref gcc/gs:raw gcc/gs:ref gcc/zero:raw gcc/zero:ref clang/global:raw clang/global:ref clang/gs:raw clang/gs:ref clang/zero:raw clang/zero:ref", i) linetype i
