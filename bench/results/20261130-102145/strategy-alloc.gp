set terminal pngcairo size 1100,560 font ',10'
set output 'strategy-alloc.png'
cols = "#d62728 #1f77b4 #ff7f0e #2ca02c #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf #393b79 #637939 #8c6d31 #843c39"
do for [i=1:14] { set linetype i linecolor rgb word(cols, i) linewidth 1.5 }
set title "Allocation time by object size (median)"
set ylabel "ns per allocation"
set logscale y
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left
plot 'strategy-alloc.dat' using 2:xtic(1) title 'blocks', '' using 3 title 'contiguous'
