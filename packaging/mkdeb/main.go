// Command mkdeb builds fwc's Debian package with nfpm, from a built fwc
// binary and the repository: no network, no dpkg tools. scripts/deb.sh
// builds the binary and runs it; packaging/README.md says what the package
// holds and why.
package main

import (
	"bytes"
	"compress/gzip"
	"debug/buildinfo"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
)

func main() {
	bin := flag.String("fwc", "", "the fwc `binary` to package (it is also run to write the man pages and completions)")
	repo := flag.String("repo", ".", "the fwc repository `directory`")
	version := flag.String("version", "", "the package `version` (Debian syntax: 1.2.3, 0.0.0~git20261203.abcdef0)")
	gen := flag.String("gen", "", "the fwc `binary` run to write the man pages and completions (default: -fwc; a host build when -fwc is for another architecture)")
	arch := flag.String("arch", "", "the Go `architecture` (GOARCH) of the binary (default: read from it)")
	mtime := flag.String("mtime", "", "RFC 3339 `time` stamped on every file, for reproducible packages (default: now)")
	outdir := flag.String("outdir", ".", "the `directory` to write fwc_VERSION_ARCH.deb into")
	flag.Parse()
	if *bin == "" || *version == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: mkdeb -fwc BIN -version V [-gen BIN] [-repo DIR] [-arch GOARCH] [-mtime T] [-outdir DIR]")
		os.Exit(2)
	}
	if *gen == "" {
		*gen = *bin
	}
	out, err := build(*bin, *gen, *repo, *version, *arch, *mtime, *outdir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkdeb:", err)
		os.Exit(1)
	}
	fmt.Println(out)
}

// debArch maps Go's architecture names to Debian's where they differ.
var debArch = map[string]string{"386": "i386", "arm": "armhf", "ppc64le": "ppc64el", "mips64le": "mips64el", "mipsle": "mipsel"}

// build writes the package into outdir and returns its path.
func build(bin, gen, repo, version, arch, mtimeText, outdir string) (string, error) {
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "", err
	}
	if arch == "" {
		for _, s := range bi.Settings {
			if s.Key == "GOARCH" {
				arch = s.Value
			}
		}
	}
	if a, ok := debArch[arch]; ok {
		arch = a
	}
	mtime := time.Now().UTC().Truncate(time.Second)
	if mtimeText != "" {
		if mtime, err = time.Parse(time.RFC3339, mtimeText); err != nil {
			return "", fmt.Errorf("-mtime: %w", err)
		}
	}
	stage, err := os.MkdirTemp("", "mkdeb")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(stage)

	contents := files.Contents{
		{Source: bin, Destination: "/usr/sbin/fwc", FileInfo: &files.ContentFileInfo{Mode: 0o755}},
		// The systemd unit and its fallback policy, as contrib/systemd
		// describes them. The unit is not enabled on install: the
		// policy must be the host's before it runs at boot.
		{Source: filepath.Join(repo, "contrib/systemd/fwc.service"), Destination: "/lib/systemd/system/fwc.service", FileInfo: &files.ContentFileInfo{Mode: 0o644}},
		{Source: filepath.Join(repo, "contrib/systemd/fwc-routes.service"), Destination: "/lib/systemd/system/fwc-routes.service", FileInfo: &files.ContentFileInfo{Mode: 0o644}},
		// The drop-ins for hosts whose firewall is iptables are examples:
		// an administrator installs them (contrib/systemd/README.md) only
		// where the policy is applied with --backend iptables.
		{Source: filepath.Join(repo, "contrib/systemd/iptables/fwc.service.conf"), Destination: "/usr/share/doc/fwc/examples/systemd/iptables/fwc.service.conf", FileInfo: &files.ContentFileInfo{Mode: 0o644}},
		{Source: filepath.Join(repo, "contrib/systemd/iptables/fwc-routes.service.conf"), Destination: "/usr/share/doc/fwc/examples/systemd/iptables/fwc-routes.service.conf", FileInfo: &files.ContentFileInfo{Mode: 0o644}},
		// Conffiles: dpkg keeps the administrator's edits on upgrade.
		{Source: filepath.Join(repo, "contrib/systemd/fallback.fw"), Destination: "/etc/fwc/fallback.fw", Type: files.TypeConfig, FileInfo: &files.ContentFileInfo{Mode: 0o644}},
		{Source: filepath.Join(repo, "packaging/policy.fw"), Destination: "/etc/fwc/policy.fw", Type: files.TypeConfig, FileInfo: &files.ContentFileInfo{Mode: 0o644}},
	}
	add := func(name, dst string, data []byte, gz bool) error {
		if gz {
			data = gzipped(data, mtime)
		}
		src := filepath.Join(stage, name)
		if err := os.WriteFile(src, data, 0o644); err != nil {
			return err
		}
		contents = append(contents, &files.Content{Source: src, Destination: dst, FileInfo: &files.ContentFileInfo{Mode: 0o644}})
		return nil
	}

	// Manual pages: fwc(1), a page per command, and fwc.fw(5) from
	// docs/language.md, written by the binary being packaged so that
	// they describe it; gzipped as Debian policy wants.
	mandir := filepath.Join(stage, "man")
	if err := runFwc(gen, "man", "--dir", mandir, "--language", filepath.Join(repo, "docs/language.md")); err != nil {
		return "", err
	}
	pages, _ := filepath.Glob(filepath.Join(mandir, "*.[1-9]"))
	if len(pages) == 0 {
		return "", fmt.Errorf("fwc man wrote no pages")
	}
	for _, p := range pages {
		data, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		name := filepath.Base(p)
		section := name[len(name)-1:]
		if err := add(name+".gz", "/usr/share/man/man"+section+"/"+name+".gz", data, true); err != nil {
			return "", err
		}
	}

	// Shell completions, where each shell's package looks for them.
	for _, c := range []struct{ shell, dst string }{
		{"bash", "/usr/share/bash-completion/completions/fwc"},
		{"zsh", "/usr/share/zsh/vendor-completions/_fwc"},
		{"fish", "/usr/share/fish/vendor_completions.d/fwc.fish"},
	} {
		data, err := outputFwc(gen, "completion", c.shell)
		if err != nil {
			return "", err
		}
		if err := add("completion."+c.shell, c.dst, data, false); err != nil {
			return "", err
		}
	}

	// The copyright file (Debian's machine-readable format), with the
	// modules linked into the binary, and a changelog.
	if err := add("copyright", "/usr/share/doc/fwc/copyright", copyright(bi, mtime.Year()), false); err != nil {
		return "", err
	}
	// fwc is built with CGO_ENABLED=0 on purpose (one binary for every
	// release, no libc dependency): say so to lintian.
	override := "# Go, built with CGO_ENABLED=0 so that one binary runs on every release.\nfwc: statically-linked-binary [usr/sbin/fwc]\n"
	if err := add("lintian-overrides", "/usr/share/lintian/overrides/fwc", []byte(override), false); err != nil {
		return "", err
	}
	if err := add("changelog.gz", "/usr/share/doc/fwc/changelog.gz", changelog(version, mtime), true); err != nil {
		return "", err
	}

	info := nfpm.WithDefaults(&nfpm.Info{
		Name:          "fwc",
		Arch:          arch,
		Platform:      "linux",
		Version:       version,
		VersionSchema: "none", // a Debian version, not semver
		Section:       "net",
		Priority:      "optional",
		Maintainer:    "fwc developers <fwc@fwcproject.github.io>",
		Homepage:      "https://github.com/fwcproject/fwc",
		License:       "Apache-2.0",
		Description: "firewall policy compiler and linter for Linux\n" +
			"fwc reads a firewall policy written in one typed language (zones,\n" +
			"services, named sets, rate limits, NAT, marks for policy routing),\n" +
			"checks it for mistakes and translates it to nftables or iptables;\n" +
			"it installs it atomically over netlink, with a confirm timeout.",
		MTime: mtime,
		Overridables: nfpm.Overridables{
			Contents: contents,
			// plan and apply run nft for listings and rollbacks; check,
			// fmt and translate need nothing.
			Recommends: []string{"nftables"},
		},
	})
	if err := nfpm.PrepareForPackager(info, "deb"); err != nil {
		return "", err
	}
	pkg, err := nfpm.Get("deb")
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := pkg.Package(info, &buf); err != nil {
		return "", err
	}
	out := filepath.Join(outdir, fmt.Sprintf("fwc_%s_%s.deb", version, arch))
	return out, os.WriteFile(out, buf.Bytes(), 0o644)
}

func runFwc(bin string, args ...string) error {
	_, err := outputFwc(bin, args...)
	return err
}

func outputFwc(bin string, args ...string) ([]byte, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("fwc %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// gzipped compresses data with no file name and a fixed time, so that
// the same input gives the same bytes (lintian and reproducible builds
// check both).
func gzipped(data []byte, mtime time.Time) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.ModTime = mtime
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// copyright is /usr/share/doc/fwc/copyright: fwc's licence, then the Go
// modules the binary links (their licences travel with the binary).
func copyright(bi *buildinfo.BuildInfo, year int) []byte {
	var b bytes.Buffer
	b.WriteString("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n")
	b.WriteString("Upstream-Name: fwc\nSource: https://github.com/fwcproject/fwc\n\n")
	fmt.Fprintf(&b, "Files: *\nCopyright: %d the fwc authors, as recorded in the version history\nLicense: Apache-2.0\n", year)
	var deps []string
	for _, d := range bi.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		deps = append(deps, d.Path+" "+d.Version)
	}
	sort.Strings(deps)
	if len(deps) > 0 {
		b.WriteString("Comment: the fwc binary also contains these Go modules, each under\n the licence in its module source:\n")
		for _, d := range deps {
			b.WriteString(" " + d + "\n")
		}
	}
	// Debian ships the licence's text; lintian refuses a copy here.
	b.WriteString("\nLicense: Apache-2.0\n On Debian systems the full text of the Apache License, Version 2.0, is in\n /usr/share/common-licenses/Apache-2.0.\n")
	return b.Bytes()
}

// changelog is a one-entry Debian changelog: the package is built from
// the repository, whose history is the real changelog.
func changelog(version string, t time.Time) []byte {
	return fmt.Appendf(nil, "fwc (%s) unstable; urgency=medium\n\n  * Built from the fwc repository; its history is the changelog.\n\n -- fwc developers <fwc@fwcproject.github.io>  %s\n",
		version, t.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
}
