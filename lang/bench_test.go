package lang

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// policy50k generates a policy of n rules: zone rules and chain rules with
// addresses, ports and set lookups.
func policy50k(n int) []byte {
	var b strings.Builder
	b.WriteString("zone lan { iface eth1; net 10.0.0.0/8 }\nzone wan { iface eth0 }\n")
	b.WriteString("set allow : ipv4_addr . port { elements { 10.0.0.1 . 80, 10.0.0.2 . 443 } }\n")
	half := n / 2
	for i := range half {
		fmt.Fprintf(&b, "from wan to lan saddr 192.168.%d.%d/32, 172.16.%d.0/24 tcp dport %d, %d-%d ct state new accept # r%d\n",
			i/256%256, i%256, i%256, 1024+i%60000, 2000, 3000, i)
	}
	b.WriteString("table filter {\n\tchain input policy drop {\n")
	for i := half; i < n; i++ {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, "\t\tiif eth0 daddr != 10.%d.%d.0/24 udp dport { 53, %d } counter drop\n", i/256%256, i%256, i%65535)
		case 1:
			fmt.Fprintf(&b, "\t\tsaddr . tcp dport @allow log prefix \"r%d: \" accept\n", i)
		default:
			fmt.Fprintf(&b, "\t\tsaddr @allow limit 10/second burst 5 jump c%d\n", i%10)
		}
	}
	b.WriteString("\t}\n}\n")
	return []byte(b.String())
}

func BenchmarkParse50k(b *testing.B) {
	src := policy50k(50000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		f, ds := ParseFile("big.fw", src)
		if len(ds) > 0 || len(f.Decls) != 50000/2+4 {
			b.Fatalf("%d decls, %v", len(f.Decls), ds)
		}
	}
}

func BenchmarkParseTestdata(b *testing.B) {
	src, err := os.ReadFile("testdata/all.fw")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ParseFile("all.fw", src)
	}
}
