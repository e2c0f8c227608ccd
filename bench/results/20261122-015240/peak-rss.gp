set terminal pngcairo size 1100,560 font ',10'
set output 'peak-rss.png'
cols = "#d62728 #1f77b4 #ff7f0e #2ca02c #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf #393b79 #637939 #8c6d31 #843c39"
do for [i=1:14] { set linetype i linecolor rgb word(cols, i) linewidth 1.5 }
set title "peak RSS per cell (process running one workload)"
set ylabel "MiB"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top
set grid ytics
set xtics rotate by -20 noenhanced
set key noenhanced
set logscale y
plot for [i=1:12] 'peak-rss.dat' using (column(3*i-1)):(column(3*i)):(column(3*i+1)):xtic(1) \
     title word("rgn rgn-contig glibc jemalloc jemalloc-arena tcmalloc mimalloc-heap apr-default apr talloc obstack textbook", i) linetype i
