" fwc policies: *.fw
autocmd BufRead,BufNewFile *.fw setfiletype fwc
