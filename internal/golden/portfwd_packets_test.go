package golden_test

// The portfwd lint's FW1720 says a port forward whose translated packets
// the forward chain does not accept never reaches its server. Its testdata
// policy runs here as a packet case: the forward the chain accepts is
// answered by the server, the two it reports time out, in both backends.
func init() {
	packetCases = append(packetCases, packetCase{
		example: "check/passes/portfwd/testdata/dropped.fw",
		fwAddrs: map[string][]string{"eth0": {"198.51.100.1/24"}, "eth1": {"192.168.1.1/24"}, "eth2": {"192.168.172.1/24"}},
		peers: []peer{
			{name: "wan", iface: "eth0", addrs: []string{"198.51.100.10/24"},
				routes: []string{"default via 198.51.100.1"}},
			{name: "lan", iface: "eth1", addrs: []string{"192.168.1.200/24", "192.168.1.10/24"},
				routes: []string{"default via 192.168.1.1"}, serve: []string{"tcp:8080", "tcp:22"}},
			{name: "dmz", iface: "eth2", addrs: []string{"192.168.172.25/24"},
				routes: []string{"default via 192.168.172.1"}, serve: []string{"tcp:25"}},
		},
		probes: []expect{
			{"wan", probe{"tcp", "198.51.100.10", "198.51.100.1", 80}, "open lan 198.51.100.10", "the forward chain accepts 192.168.1.200:8080"},
			{"wan", probe{"tcp", "198.51.100.10", "198.51.100.1", 25}, "timeout", "FW1720: forwarded to 192.168.172.25:25, dropped by the forward chain"},
			{"wan", probe{"tcp", "198.51.100.10", "198.51.100.1", 2222}, "timeout", "FW1720: forwarded to 192.168.1.10:22, dropped by the forward chain"},
		},
	})
}

// FW1721 says "from wan to lan ... dnat" never matches when lan is
// masqueraded toward wan: a packet from wan to this host's port 80 is not
// forwarded (the host itself refuses it), while the same forward written
// "to self" (port 81) reaches the lan server.
func init() {
	packetCases = append(packetCases, packetCase{
		example: "check/passes/portfwd/testdata/behindnat.fw",
		fwAddrs: map[string][]string{"eth0": {"198.51.100.1/24"}, "eth1": {"192.168.1.1/24"}, "eth2": {"203.0.113.1/28"}},
		peers: []peer{
			{name: "wan", iface: "eth0", addrs: []string{"198.51.100.10/24"},
				routes: []string{"default via 198.51.100.1"}},
			{name: "lan", iface: "eth1", addrs: []string{"192.168.1.200/24"},
				routes: []string{"default via 192.168.1.1"}, serve: []string{"tcp:8080", "tcp:8081"}},
			{name: "dmz", iface: "eth2", addrs: []string{"203.0.113.5/28"},
				routes: []string{"default via 203.0.113.1"}},
		},
		probes: []expect{
			{"wan", probe{"tcp", "198.51.100.10", "198.51.100.1", 80}, "refused", "FW1721: the from wan to lan dnat never matches; the host refuses port 80"},
			{"wan", probe{"tcp", "198.51.100.10", "198.51.100.1", 81}, "open lan 198.51.100.10", "the same forward written to self"},
		},
	})
}
