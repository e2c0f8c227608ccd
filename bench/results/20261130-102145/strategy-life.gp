set terminal pngcairo size 1100,560 font ',10'
set output 'strategy-life.png'
cols = "#d62728 #1f77b4 #ff7f0e #2ca02c #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf #393b79 #637939 #8c6d31 #843c39"
do for [i=1:14] { set linetype i linecolor rgb word(cols, i) linewidth 1.5 }
set termoption noenhanced
set title "create + alloc 64 B + destroy (median)"
set ylabel "ns per cycle"
set logscale y
set style data histogram
set style fill solid 0.8 border -1
set xtics rotate by -20
set key off
plot 'strategy-life.dat' using 2:xtic(1) linetype 2
