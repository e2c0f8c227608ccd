set terminal pngcairo size 1100,560 font ',10'
set output 'strategy-inflate.png'
cols = "#d62728 #1f77b4 #ff7f0e #2ca02c #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf #393b79 #637939 #8c6d31 #843c39"
do for [i=1:14] { set linetype i linecolor rgb word(cols, i) linewidth 1.5 }
set termoption noenhanced
set title "RSS over 10,000 region lifetimes (the MADV_FREE line lies on the pages-kept one)"
set xlabel "lifetime"
set ylabel "RSS above start (MiB)"
set key top left
plot 'strategy-inflate.dat' using 1:2 with lines title 'blocks', 'strategy-inflate.dat' using 1:3 with lines title 'contiguous, unmap', 'strategy-inflate.dat' using 1:4 with lines title 'contiguous, cache, pages kept', 'strategy-inflate.dat' using 1:5 with lines title 'contiguous, cache + DONTNEED', 'strategy-inflate.dat' using 1:6 with lines title 'contiguous, cache + MADV_FREE'
