package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/spf13/cobra"

	"github.com/fwcproject/fwc/diag"
)

func newFmtCmd(e *env) *cobra.Command {
	var write, list, showDiff bool
	cmd := &cobra.Command{
		Use:   "fmt [-w] [-l] [-d] [PATH...]",
		Short: "Print policies in canonical layout",
		Long: `Fmt prints each policy file in canonical layout, keeping comments.
Formatting is idempotent: formatting formatted text changes nothing.

Directories are walked for *.fw files. Without a path, fmt formats standard
input to standard output. By default the formatted text is printed; -w
rewrites files whose layout differs, -l lists them, -d prints a diff.
Includes are not followed: name the files or directories to format.

Exit status: 0 on success (even when files differ), 1 when a file has
syntax errors (it is left alone and the errors are reported), 2 for usage
or I/O problems.`,
		Example: `  fwc fmt host.fw
  fwc fmt -l .
  fwc fmt -w examples/
  fwc fmt -d host.fw`,
		RunE: func(cmd *cobra.Command, paths []string) error {
			f := &formatter{e: e, write: write, list: list, diff: showDiff, sources: map[string][]byte{}}
			if len(paths) == 0 {
				if write {
					return usagef("cannot use -w with standard input")
				}
				src, err := readPolicyStdin(e.stdin)
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				f.format("<stdin>", src, 0)
			}
			for _, p := range paths {
				files, err := fwFiles(p)
				if err != nil {
					f.ioErr(err)
				}
				for _, name := range files {
					f.file(name)
				}
			}
			return f.finish()
		},
	}
	cmd.Flags().BoolVarP(&write, "write", "w", false, "write the result back to files whose layout differs")
	cmd.Flags().BoolVarP(&list, "list", "l", false, "list files whose layout differs")
	cmd.Flags().BoolVarP(&showDiff, "diff", "d", false, "print a diff instead of the formatted text")
	return cmd
}

// fwFiles returns path itself when it is a file, and every *.fw file below
// it in lexical order when it is a directory.
func fwFiles(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".fw") {
			files = append(files, p)
		}
		return nil
	})
	return files, err
}

type formatter struct {
	e                 *env
	write, list, diff bool

	diags   diag.Diagnostics // syntax errors of all files
	sources map[string][]byte
	ioFail  bool
}

func (f *formatter) ioErr(err error) {
	fmt.Fprintf(f.e.stderr, "fwc: %v\n", err)
	f.ioFail = true
}

func (f *formatter) file(name string) {
	fi, err := os.Stat(name)
	if err != nil {
		f.ioErr(err)
		return
	}
	src, err := readPolicyFile(name)
	if err != nil {
		f.ioErr(fmt.Errorf("%s: %w", name, err))
		return
	}
	f.format(name, src, fi.Mode().Perm())
}

func (f *formatter) format(name string, src []byte, perm fs.FileMode) {
	file, ds, show := parseFile(name, src, name == "<stdin>")
	if ds.HasErrors() || file == nil {
		if show {
			f.sources[name] = src
		}
		f.diags = append(f.diags, ds...)
		return
	}
	out := formatFile(file)
	changed := !bytes.Equal(src, out)
	if f.list && changed {
		fmt.Fprintln(f.e.stdout, name)
	}
	if f.diff && changed {
		f.e.stdout.Write(diff.Diff(name+".orig", src, name, out))
	}
	if f.write && changed {
		if err := writeFile(name, out, perm); err != nil {
			f.ioErr(err)
		}
	}
	if !f.list && !f.diff && !f.write {
		f.e.stdout.Write(out)
	}
}

func (f *formatter) finish() error {
	if len(f.diags) > 0 {
		src := func(name string) []byte { return f.sources[name] }
		if err := diag.RenderText(f.e.stderr, f.diags, src, diag.TextOptions{Color: wantColor(f.e.stderr)}); err != nil {
			f.ioErr(err)
		}
	}
	switch {
	case f.ioFail:
		return &exitError{code: exitUsage}
	case f.diags.HasErrors():
		return findings
	}
	return nil
}

// writeFile replaces the file name (the target, when name is a symbolic
// link) with data, atomically: a reader sees the old or the new text, never
// a half-written file.
func writeFile(name string, data []byte, perm fs.FileMode) (err error) {
	if target, err := filepath.EvalSymlinks(name); err == nil {
		name = target
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
