// Command udpsend sends small UDP datagrams as fast as it can for a while,
// for scripts/bench-pps.sh: the packets a firewall namespace forwards, and
// whose rate through it the script measures at the far end.
//
//	udpsend -to 198.18.0.1:9 -for 2s [-size 18] [-senders 1]
//
// It prints how many datagrams it handed to the kernel and over how long
// ("sent N in S seconds"). The count that matters is the receiver's: a
// datagram the firewall is too slow for is dropped on the way, and the
// sender does not see it.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	to := flag.String("to", "", "destination address:port")
	dur := flag.Duration("for", 2*time.Second, "how long to send")
	size := flag.Int("size", 18, "UDP payload bytes (18: a 64-byte Ethernet frame)")
	senders := flag.Int("senders", 1, "sockets sending at once, each from its own port")
	flag.Parse()
	if *to == "" || flag.NArg() > 0 || *size < 0 || *senders < 1 {
		fmt.Fprintln(os.Stderr, "usage: udpsend -to ADDR:PORT [-for 2s] [-size 18] [-senders 1]")
		os.Exit(2)
	}
	raddr, err := net.ResolveUDPAddr("udp", *to)
	if err != nil {
		fmt.Fprintln(os.Stderr, "udpsend:", err)
		os.Exit(2)
	}
	var sent atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(*dur)
	for i := 0; i < *senders; i++ {
		c, err := net.DialUDP("udp", nil, raddr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "udpsend:", err)
			os.Exit(1)
		}
		wg.Go(func() {
			defer c.Close()
			buf := make([]byte, *size)
			n := int64(0)
			// Check the clock every 256 datagrams, not every one.
			for time.Now().Before(deadline) {
				for k := 0; k < 256; k++ {
					// A full queue (ENOBUFS) or an ICMP error from an
					// earlier datagram (ECONNREFUSED) is no reason to stop.
					if _, err := c.Write(buf); err == nil {
						n++
					}
				}
			}
			sent.Add(n)
		})
	}
	wg.Wait()
	fmt.Printf("sent %d in %.3f seconds\n", sent.Load(), time.Since(start).Seconds())
}
