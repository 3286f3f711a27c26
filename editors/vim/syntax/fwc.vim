" Vim syntax file for fwc policies (*.fw).
" Keep the keyword lists in step with docs/grammar.ebnf: editors/test checks it.
if exists("b:current_syntax")
  finish
endif

" Words may hold "-" (random-fully, tcp-reset).
syn iskeyword @,48-57,_,192-255,-

syn match fwcComment "#.*$" contains=@Spell
syn match fwcString +"\(\\["\\]\|[^"\\]\)*"+
syn match fwcBadString +"[^"]*$+
" Numbers first: a later match that starts at the same place wins, so an
" address is not taken for a number.
syn match fwcNumber "\<\(0[xX]\x\+\|\d\+\(\.\d\+\)\=\)\>"
syn match fwcDuration "\<\d\+\(ms\|s\|m\|h\|d\|w\)\>"
syn match fwcIPv4 "\<\d\{1,3}\(\.\d\{1,3}\)\{3}\(/\d\{1,2}\)\=\>"
syn match fwcIPv6 "\(\x\{0,4}:\)\{2,7}\(\x\{1,4}\)\=\(/\d\{1,3}\)\="
syn match fwcSetRef "@\h[[:alnum:]_-]*"
syn match fwcDefineRef "\$\h[[:alnum:]_-]*"
syn match fwcOperator "!=\|->"

syn keyword fwcDeclaration include define zone service set policy table chain route balance assert sysctl
syn keyword fwcDeclaration from to
syn keyword fwcVerdict accept drop reject return jump goto
syn keyword fwcKeyword address addrtype algo burst connlimit connmark counter ct daddr date day
syn keyword fwcKeyword dev direction dnat dport dscp dst dynamic helper hoplimit elements endpoints family flags hour icmp icmpv6
syn keyword fwcKeyword iface iif length level limit log management mark mask masquerade meter net
syn keyword fwcKeyword notrack oif over owner per persistent pkttype prefix priority probability proto random
syn keyword fwcKeyword random-fully redirect restore saddr save sctp size snat sport src state
syn keyword fwcKeyword status string syn tcp timeout tos trace ttl type udp
syn keyword fwcKeyword udplite uid via with zone gid

hi def link fwcComment Comment
hi def link fwcString String
hi def link fwcBadString Error
hi def link fwcIPv4 Number
hi def link fwcIPv6 Number
hi def link fwcNumber Number
hi def link fwcDuration Number
hi def link fwcSetRef Identifier
hi def link fwcDefineRef PreProc
hi def link fwcOperator Operator
hi def link fwcDeclaration Statement
hi def link fwcVerdict Keyword
hi def link fwcKeyword Type

let b:current_syntax = "fwc"
