// Package safefile creates, replaces and opens files in a directory
// without following links someone planted there: root writing through a
// symbolic link in a directory others can write to overwrites whatever
// file the link names.
//
// A Dir is an open directory; every operation is relative to its file
// descriptor (openat, renameat, unlinkat), so renaming or replacing the
// directory's path after it was opened changes nothing. Files are opened
// with O_NOFOLLOW, and new contents are written under a fresh temporary
// name created with O_EXCL, then renamed over the final name: a link at
// either name is never written through.
//
// OpenPrivate also checks that the directory belongs to the caller and
// that no one else may write to it, which is what a directory holding
// state that root acts on later (apply's --state-dir) needs: there no one
// else can plant anything at all.
package safefile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Dir is an open directory. Names given to its methods are plain file
// names (no slash, not "." or "..").
type Dir struct {
	f    *os.File
	path string
}

// UnsafeDirError is OpenPrivate's error for a directory that someone other
// than the caller can write to (or plant links in).
type UnsafeDirError struct {
	// Path is the directory, absolute.
	Path string
	// Problem says what is wrong, as a clause: "is writable by group or
	// others (mode 0777)".
	Problem string
	// Fix says what to do, as a clause.
	Fix string
}

func (e *UnsafeDirError) Error() string {
	return fmt.Sprintf("directory %s %s: anyone who can write there can make fwc overwrite files through links; %s", e.Path, e.Problem, e.Fix)
}

// OpenPrivate opens the directory at path (made absolute), creating it and
// its missing parents with mode 0700 when it does not exist. It fails with
// an *UnsafeDirError when the directory (its last component) is a symbolic
// link, is not owned by the effective user, or is writable by group or
// others.
func OpenPrivate(path string) (*Dir, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, err
	}
	d, err := open(abs)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(d.f.Fd()), &st); err != nil {
		d.Close()
		return nil, &os.PathError{Op: "fstat", Path: abs, Err: err}
	}
	uid := uint32(os.Geteuid())
	switch {
	case st.Uid != uid:
		d.Close()
		return nil, &UnsafeDirError{Path: abs, Problem: fmt.Sprintf("is owned by uid %d, not by the user running fwc (uid %d)", st.Uid, uid),
			Fix: fmt.Sprintf("use a directory of your own (chown %d %s, or another directory)", uid, abs)}
	case st.Mode&0o022 != 0:
		d.Close()
		return nil, &UnsafeDirError{Path: abs, Problem: fmt.Sprintf("is writable by group or others (mode %04o)", st.Mode&0o7777),
			Fix: fmt.Sprintf("make it writable by its owner only (chmod go-w %s), or use another directory", abs)}
	}
	return d, nil
}

// Open opens the directory at path (made absolute) without checking who
// owns it; its last component must not be a symbolic link.
func Open(path string) (*Dir, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	return open(abs)
}

func open(abs string) (*Dir, error) { return openDir(abs, unix.O_NOFOLLOW) }

// openDir opens the directory abs; flags adds O_NOFOLLOW, or not.
func openDir(abs string, flags int) (*Dir, error) {
	fd, err := unix.Open(abs, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|flags, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			if fi, lerr := os.Lstat(abs); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
				return nil, &UnsafeDirError{Path: abs, Problem: "is a symbolic link",
					Fix: "give the directory the link points to instead"}
			}
		}
		return nil, &os.PathError{Op: "open", Path: abs, Err: err}
	}
	return &Dir{f: os.NewFile(uintptr(fd), abs), path: abs}, nil
}

// Path is the directory's absolute path, as it was opened.
func (d *Dir) Path() string { return d.path }

// Join is the path of name in the directory.
func (d *Dir) Join(name string) string { return filepath.Join(d.path, name) }

// Close closes the directory.
func (d *Dir) Close() error { return d.f.Close() }

func (d *Dir) fd() int { return int(d.f.Fd()) }

func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return fmt.Errorf("safefile: %q is not a plain file name", name)
	}
	return nil
}

// OpenFile opens name in the directory with flag (os.O_* flags) and perm,
// never following a symbolic link (opening one fails), and fails unless
// the file is a regular file (a FIFO would block, a device would be
// written to).
func (d *Dir) OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	// O_NONBLOCK so that opening a FIFO does not block before the type
	// check; it is cleared again for a regular file.
	fd, err := unix.Openat(d.fd(), name, flag|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, uint32(perm.Perm()))
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, &os.PathError{Op: "open", Path: d.Join(name), Err: errors.New("is a symbolic link; refusing to follow it")}
		}
		return nil, &os.PathError{Op: "open", Path: d.Join(name), Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "fstat", Path: d.Join(name), Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, &os.PathError{Op: "open", Path: d.Join(name), Err: errors.New("is not a regular file")}
	}
	if flag&unix.O_NONBLOCK == 0 {
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil {
			_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl&^unix.O_NONBLOCK)
		}
	}
	return os.NewFile(uintptr(fd), d.Join(name)), nil
}

// ReadFile reads name (see OpenFile).
func (d *Dir) ReadFile(name string) ([]byte, error) {
	f, err := d.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// CreateTemp creates a new file for name under a fresh temporary name in
// the directory (O_CREAT|O_EXCL|O_NOFOLLOW, so nothing already there is
// opened), open for reading and writing. Commit renames it to name.
func (d *Dir) CreateTemp(name string, perm os.FileMode) (f *os.File, tmp string, err error) {
	if err := checkName(name); err != nil {
		return nil, "", err
	}
	for range 10 {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		tmp = "." + name + ".tmp-" + hex.EncodeToString(b)
		f, err = d.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if !errors.Is(err, os.ErrExist) {
			return f, tmp, err
		}
	}
	return nil, "", err
}

// Commit makes the temporary file tmp (from CreateTemp, written and
// synced) the file name, replacing what was there (a link at name is
// replaced, not followed), and syncs the directory so that the rename is
// durable.
func (d *Dir) Commit(tmp, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := unix.Renameat(d.fd(), tmp, d.fd(), name); err != nil {
		return &os.LinkError{Op: "rename", Old: d.Join(tmp), New: d.Join(name), Err: err}
	}
	return d.Sync()
}

// WriteFile replaces name with data, durably: written to a new temporary
// file, synced, renamed over name, and the directory synced. A failure
// leaves name as it was.
func (d *Dir) WriteFile(name string, data []byte, perm os.FileMode) error {
	return d.writeFile(name, data, perm, true)
}

// WriteFileNoSync is WriteFile without the syncs, for files that only
// save time (caches): after a crash name holds the old or the new
// contents, or is empty.
func (d *Dir) WriteFileNoSync(name string, data []byte, perm os.FileMode) error {
	return d.writeFile(name, data, perm, false)
}

func (d *Dir) writeFile(name string, data []byte, perm os.FileMode, durable bool) error {
	f, tmp, err := d.CreateTemp(name, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && durable {
		err = d.Commit(tmp, name)
	} else if err == nil {
		err = d.Rename(tmp, name)
	}
	if err != nil {
		_ = d.Remove(tmp)
	}
	return err
}

// Rename renames old to new within the directory.
func (d *Dir) Rename(old, new string) error {
	if err := errors.Join(checkName(old), checkName(new)); err != nil {
		return err
	}
	if err := unix.Renameat(d.fd(), old, d.fd(), new); err != nil {
		return &os.LinkError{Op: "rename", Old: d.Join(old), New: d.Join(new), Err: err}
	}
	return nil
}

// Remove removes the file (or link) name; a missing name is an error
// satisfying errors.Is(err, fs.ErrNotExist).
func (d *Dir) Remove(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := unix.Unlinkat(d.fd(), name, 0); err != nil {
		return &os.PathError{Op: "remove", Path: d.Join(name), Err: err}
	}
	return nil
}

// Stat returns what name is (not following a link).
func (d *Dir) Stat(name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	if err := checkName(name); err != nil {
		return st, err
	}
	if err := unix.Fstatat(d.fd(), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return st, &os.PathError{Op: "stat", Path: d.Join(name), Err: err}
	}
	return st, nil
}

// Sync flushes the directory's entries to disk.
func (d *Dir) Sync() error { return d.f.Sync() }

// ReplaceAll replaces each file dir/names[i] with data[i], with mode perm,
// for outputs written into a directory others may be able to write to
// (translate --out-dir). dir itself may be a symbolic link only when the
// caller or root owns it (TrustedLink). A target that is a symbolic link,
// or anything but a regular file, is refused before anything is written:
// a link where fwc writes its output is someone's attempt to redirect it.
// Every file is written under a temporary name first (CreateTemp); the
// targets are replaced by renames only once all were written, so a failure
// before that leaves the old files as they were.
func ReplaceAll(dir string, names []string, data [][]byte, perm os.FileMode) (err error) {
	if err := TrustedLink(dir); err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	d, err := openDir(abs, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	// Messages name the files as the caller named the directory.
	show := func(name string) string { return filepath.Join(dir, name) }
	for _, name := range names {
		if err := checkName(name); err != nil {
			return err
		}
		switch st, err := d.Stat(name); {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return err
		case st.Mode&unix.S_IFMT == unix.S_IFLNK:
			return fmt.Errorf("%s is a symbolic link: refusing to write through it (remove it first)", show(name))
		case st.Mode&unix.S_IFMT != unix.S_IFREG:
			return fmt.Errorf("%s exists and is not a regular file", show(name))
		}
	}
	tmps := make([]string, 0, len(names))
	defer func() {
		if err != nil {
			for _, t := range tmps {
				_ = d.Remove(t)
			}
		}
	}()
	for i, name := range names {
		f, tmp, err := d.CreateTemp(name, 0o600)
		if err != nil {
			return fmt.Errorf("write %s: %w", show(name), err)
		}
		tmps = append(tmps, tmp)
		_, werr := f.Write(data[i])
		// The mode is set on the open file, whatever the umask.
		if err := errors.Join(werr, f.Chmod(perm), f.Close()); err != nil {
			return fmt.Errorf("write %s: %w", show(name), err)
		}
	}
	for i, name := range names {
		if err := d.Rename(tmps[i], name); err != nil {
			return fmt.Errorf("write %s: %w", show(name), err)
		}
	}
	return nil
}

// TrustedLink returns an error when path is a symbolic link that belongs
// to neither the caller nor root: a link the operator (or the system) made
// is followed, one someone else planted is not.
func TrustedLink(path string) error {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return nil // not a link (or not there: the caller's open says why)
	}
	if st.Uid == 0 || int(st.Uid) == os.Geteuid() {
		return nil
	}
	return fmt.Errorf("%s is a symbolic link owned by uid %d: refusing to follow it", path, st.Uid)
}
