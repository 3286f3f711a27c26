// Package safefile replaces files in a directory that others may be able
// to write to, without ever writing through a link planted there.
//
// Each file is written under a fresh temporary name created with
// O_CREAT|O_EXCL|O_NOFOLLOW (so nothing that already exists, link or not,
// is opened), then renamed over its target, relative to one open handle of
// the directory (so the directory cannot be swapped for another between
// the steps). A target that is a symbolic link, or anything but a regular
// file, is refused rather than replaced: a link where fwc writes its output
// is someone's attempt to redirect it, or a set-up the operator should
// know about.
package safefile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ReplaceAll replaces each file dir/names[i] with data[i], with mode perm.
// Every file is written to a temporary file beside its target first; the
// targets are replaced by renames only when all were written, so a failure
// before that leaves the old files as they were. names are plain file names,
// without a directory.
func ReplaceAll(dir string, names []string, data [][]byte, perm os.FileMode) (err error) {
	if err := TrustedLink(dir); err != nil {
		return err
	}
	d, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	fd := int(d.Fd())
	for _, name := range names {
		if name != filepath.Base(name) || name == "." || name == ".." {
			return fmt.Errorf("%s: not a plain file name", name)
		}
		var st unix.Stat_t
		switch err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); {
		case errors.Is(err, unix.ENOENT):
		case err != nil:
			return &os.PathError{Op: "stat", Path: filepath.Join(dir, name), Err: err}
		case st.Mode&unix.S_IFMT == unix.S_IFLNK:
			return fmt.Errorf("%s is a symbolic link: refusing to write through it (remove it first)", filepath.Join(dir, name))
		case st.Mode&unix.S_IFMT != unix.S_IFREG:
			return fmt.Errorf("%s exists and is not a regular file", filepath.Join(dir, name))
		}
	}
	tmps := make([]string, 0, len(names))
	defer func() {
		if err != nil {
			for _, t := range tmps {
				_ = unix.Unlinkat(fd, t, 0)
			}
		}
	}()
	for i, name := range names {
		tmp, err := writeTemp(fd, name, data[i], perm)
		if err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
		}
		tmps = append(tmps, tmp)
	}
	for i, name := range names {
		if err := unix.Renameat(fd, tmps[i], fd, name); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
		}
	}
	return nil
}

// writeTemp writes data to a new file with a random name beside name in
// the directory fd, and returns the name.
func writeTemp(dirfd int, name string, data []byte, perm os.FileMode) (string, error) {
	var r [6]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	tmp := "." + name + "." + hex.EncodeToString(r[:])
	fd, err := unix.Openat(dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return "", err
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, werr := f.Write(data)
	// The mode is set on the open file, not the path, and regardless of
	// the umask.
	cerr := f.Chmod(perm)
	if err := errors.Join(werr, cerr, f.Close()); err != nil {
		_ = unix.Unlinkat(dirfd, tmp, 0)
		return "", err
	}
	return tmp, nil
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
