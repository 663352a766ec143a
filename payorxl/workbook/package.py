"""The one way payorxl writes a workbook file (.xlsx/.xlsm package): every write goes here.

`write_package` (and `rewrite_parts`, its name in xlsxpart) writes a zip package with
some parts replaced and some added; `install` puts a file built elsewhere (`payorxl new`)
in place; `atomic_write_bytes` writes any bytes. They guarantee:

- untouched parts are copied raw (their compressed bytes, name, order, CRC: no inflate
  and deflate), replaced parts are rewritten in place, added parts go at the end;
- refuse-if-changed: given `expect`, the caller's `file_state` of the source taken
  before it read its inputs, a source that changed since (saved by someone else) is not
  overwritten: nothing is written and the message says so;
- a workbook Excel has open (its ``~$`` lock file is present) is refused before any
  work (`refuse_if_open`) and again just before the rename;
- a read-only workbook (no write bit for this user in its mode) is refused, left as it is;
- a macro-enabled package (.xlsm content type, or ``xl/vbaProject.bin``) is never written
  under a name ending .xlsx (Excel refuses to open such a file);
- atomic: a temp file ``.~payorxl-<pid>-XXXXXXXX<suffix>`` beside the file, flushed and
  fsynced, given the replaced file's mode, owner and group where allowed (a new file: the
  umask default, 0666 & ~umask), then renamed over it, and the folder fsynced. A symlink
  is written through: its target is replaced (the temp file goes beside the target) and
  the symlink stays a symlink. Stale temp files of killed writers are swept first;
- a failed write (disk full, read-only folder) leaves the workbook as it was, no temp
  file behind, and a one-line message saying so.

Around a whole read→write, `workbook_lock` serialises payorxl's own runs on one workbook
(import and recalc take it; so do `new --force` and the roll-up before they replace a
workbook, so that neither overwrites one an import or recalc is changing): an advisory
lock file ``.payorxl-<name>.lock`` beside the workbook (beside a symlink's target), held
with flock (msvcrt.locking on Windows, on a byte far past the text) and holding the
holder's PID and command for the message. A second run waits up to
LOCK_WAIT seconds, then is refused with a one-line message naming the other process;
a lock left by a killed run is free (the OS drops a dead process's lock) and is taken
over. `refuse_not_regular` refuses a workbook path that is a FIFO, device or folder
before anything opens it (opening a FIFO waits forever). `atomic_copy` copies a file
(the --backup) the atomic way: a temp file beside the copy, renamed over it, so a
failed copy leaves the previous one intact.

TEST-ONLY hook: when the environment variable PAYORXL_TEST_KILL_AT names one of
KILL_POINTS, the writing process SIGKILLs itself at that point of a write, so that tests
(tests/workbook/test_kill.py) can kill a write at an exact step instead of by timing:
``temp-written`` (the temp file is complete and fsynced, nothing checked or renamed yet),
``before-rename`` (every check passed, just before the rename), ``after-rename`` (the
rename and the folder's fsync are done). It fires in the first write of the process
that reaches the point (`payorxl new` makes several). Never set it outside tests.
"""
from __future__ import annotations

import copy
import errno
import logging
import os
import platform
import re
import shutil
import signal
import stat
import struct
import tempfile
import time
import zipfile
from collections.abc import Collection, Mapping
from contextlib import contextmanager
from pathlib import Path

from ..errors import PayorxlError

CONTENT_TYPES = "[Content_Types].xml"
VBA_PART = "xl/vbaProject.bin"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"

KILL_ENV = "PAYORXL_TEST_KILL_AT"          # test-only: see the module docstring
KILL_POINTS = ("temp-written", "before-rename", "after-rename")


def _kill_point(point: str) -> None:
    """TEST-ONLY: SIGKILL this process here when $PAYORXL_TEST_KILL_AT names `point`."""
    if os.environ.get(KILL_ENV) == point:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


# --- before any work -----------------------------------------------------------------

def lock_file(path: Path) -> Path:
    return Path(path).with_name("~$" + Path(path).name)


def _locks(path: Path) -> list[Path]:
    """The Excel lock files that mean `path` is open: beside it, and beside the file a
    symlink points to."""
    path = Path(path)
    locks = [lock_file(path)]
    real = resolve(path)
    if real != path.absolute():
        locks.append(lock_file(real))
    return locks


def _refuse_locked(path: Path, again: bool = False) -> None:
    for lock in _locks(path):
        if lock.exists():
            when = " while payorxl was working" if again else ""
            raise PayorxlError(f"{path.name} is open in Excel{when} (lock file {lock.name} is present); "
                               "the workbook was not changed. Close it in Excel and run the command "
                               "again, or write elsewhere with --output")


def _may_write(st: os.stat_result) -> bool:
    """Whether the mode bits let this user write the file (root too: a 0444 file is
    meant to stay as it is, even though root could write it)."""
    mode = st.st_mode
    if os.name == "nt" or not hasattr(os, "geteuid"):
        return bool(mode & stat.S_IWRITE)
    uid = os.geteuid()
    if uid == 0:
        return bool(mode & 0o222)
    if st.st_uid == uid:
        return bool(mode & stat.S_IWUSR)
    if st.st_gid == os.getegid() or st.st_gid in os.getgroups():
        return bool(mode & stat.S_IWGRP)
    return bool(mode & stat.S_IWOTH)


def _refuse_read_only(path: Path) -> None:
    path = Path(path)
    try:
        st = os.stat(path)          # follows a symlink: the workbook itself
    except OSError:
        return                      # a new file; or the write itself will say what is wrong
    if stat.S_ISREG(st.st_mode) and not _may_write(st):
        raise PayorxlError(f"{path.name} is read-only (mode {stat.S_IMODE(st.st_mode):04o}); the workbook "
                           f"was not changed. Make it writable (chmod u+w, or clear Read-only in its "
                           "Properties) and run the command again, or write a copy with --output")


def refuse_if_open(path: Path) -> None:
    """Refuse, before any work, a workbook payorxl must not write: open in Excel (its
    ``~$`` lock file is present), or read-only."""
    _refuse_locked(Path(path))
    _refuse_read_only(Path(path))


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words ("a FIFO (named pipe)", "a folder", ...)."""
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def refuse_not_regular(path: Path) -> None:
    """Refuse a workbook path that names a FIFO, a device, a socket or a folder, before
    anything opens it (opening a FIFO waits for a writer forever; a device reads without
    end). A missing path passes: the reader says that it does not exist."""
    path = Path(path)
    try:
        st = os.stat(path)          # stat never opens the file: no wait on a FIFO
    except OSError:
        return
    if not stat.S_ISREG(st.st_mode):
        raise PayorxlError(f"{path.name} is {file_kind(st.st_mode)}, not a workbook file; nothing was read "
                           "or written. Give the .xlsx/.xlsm file itself")


# --- one payorxl run at a time ----------------------------------------------------------

LOCK_WAIT = 5.0                  # seconds a second run waits for the first before it is refused
_LOCK_POLL = 0.05


def workbook_lock_file(path: Path) -> Path:
    """The advisory lock file of the workbook `path` (beside a symlink's target)."""
    real = resolve(Path(path))
    return real.with_name(f".payorxl-{real.name}.lock")


try:   # POSIX: flock, dropped by the OS when its holder dies (no stale lock to judge)
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (BlockingIOError, PermissionError):
            return False
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False
            raise
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

    _UNLINK_WHILE_HELD = True
except ImportError:   # Windows: a byte far past the PID text, so that others can read it
    import msvcrt

    _WIN_BYTE = 1 << 30
    # What msvcrt.locking(LK_NBLCK) raises when another handle holds the byte: the CRT maps
    # ERROR_LOCK_VIOLATION to EACCES (EDEADLOCK is LK_LOCK's, after its ten retries).
    _HELD = {errno.EACCES, errno.EDEADLK, getattr(errno, "EDEADLOCK", errno.EDEADLK)}

    def _try_lock(fd: int) -> bool:
        # msvcrt.locking locks nbytes from the descriptor's current position (and leaves
        # the position there): seek to the byte first, and back to 0 after, so that the
        # PID text is written at the start of the file, not a gigabyte into it.
        os.lseek(fd, _WIN_BYTE, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as e:
            if e.errno in _HELD:
                return False
            raise
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WIN_BYTE, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    _UNLINK_WHILE_HELD = False   # Windows cannot delete a file another process has open


# Where these stop payorxl making its lock file, it cannot write the workbook there either
# (or only reads there: the source of recalc --output): it goes on without the lock.
_NO_LOCK_HERE = {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOSPC,
                 getattr(errno, "EDQUOT", errno.ENOSPC), errno.ENOTDIR}


def _open_lock(lock: Path, real: Path) -> int | None:
    """The lock file opened (created with the workbook's mode and group if missing);
    None when it vanished meanwhile (its holder removed it: try again)."""
    flags = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | \
        getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(lock, flags | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        try:
            _match_permissions(fd, str(lock), real)
            mode = stat.S_IMODE(os.fstat(fd).st_mode)
            if not mode & stat.S_IWUSR:   # a read-only workbook's mode: Windows could not delete the lock file
                os.chmod(fd if os.chmod in os.supports_fd else lock, mode | stat.S_IWUSR)
        except OSError:
            pass
        return fd
    try:
        fd = os.open(lock, flags)
    except FileNotFoundError:
        return None
    except PermissionError:          # another user's lock file, readable only: flock needs no write
        fd = os.open(lock, (flags & ~os.O_RDWR) | os.O_RDONLY)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise PayorxlError(f"{lock.name} beside {real.name} is not payorxl's lock file; nothing was written. "
                           "Remove it and run the command again")
    return fd


def _holder(fd: int) -> str:
    """Who holds the lock, from the text its holder wrote: "payorxl import, process 4711"."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 200)
    except OSError:
        text = b""
    fields = text.decode("utf-8", "replace").split()
    if not fields or not fields[0].isdigit():
        return "another payorxl run"
    what = f"payorxl {fields[1]}" if len(fields) > 1 else "payorxl"
    host = fields[2] if len(fields) > 2 else ""
    where = f" on {host}" if host and host != platform.node() else ""
    return f"{what}, process {fields[0]}{where}"


@contextmanager
def workbook_lock(path: Path, command: str = "run", wait: float | None = None):
    """Hold payorxl's advisory lock on the workbook `path` for a whole read→write, so
    that two payorxl runs (import, recalc; from the CLI, the buttons or Python) never
    work on one workbook at once: a second run waits up to `wait` seconds (LOCK_WAIT)
    for the first, then is refused with a message naming it. The workbook must be a
    regular file (refuse_not_regular). A lock left by a killed run is free: the OS drops
    a dead process's lock, and the next run takes the file over. Where no lock file can
    be made (a read-only folder, a missing folder) the run goes on without one: it
    cannot write a workbook there either, and the write says why. Not re-entrant: a
    process that takes it twice for one workbook waits for itself and is refused."""
    shown = Path(path)
    refuse_not_regular(shown)
    real = resolve(shown)
    lock = real.with_name(f".payorxl-{real.name}.lock")
    wait = LOCK_WAIT if wait is None else wait
    deadline = time.monotonic() + wait
    fd = None
    while fd is None:
        try:
            fd = _open_lock(lock, real)
        except OSError as e:
            if e.errno in _NO_LOCK_HERE:     # read-only or missing folder, no space for an inode
                break
            raise PayorxlError(f"{lock.name} beside {real.name} cannot be used as payorxl's lock file "
                               f"({e.strerror or e}); nothing was written. Remove it and run the command "
                               "again") from None
        if fd is None:
            continue
        try:
            held = _try_lock(fd)
        except OSError as e:         # not "held by another": locking itself failed (e.g. a share without locks)
            os.close(fd)
            raise PayorxlError(f"{lock.name} beside {real.name} could not be locked ({e.strerror or e}); nothing "
                               "was written. Work on a copy in a local folder, or remove the file and run the "
                               "command again") from None
        if held:
            try:                     # the name must still be this file (not removed and made anew)
                same = os.path.samestat(os.fstat(fd), os.stat(lock, follow_symlinks=False))
            except OSError:
                same = False
            if same:
                break
            try:                     # before the close: Windows frees a closed handle's locks only eventually
                _unlock(fd)
            except OSError:
                pass
        else:
            holder = _holder(fd)
            os.close(fd)
            fd = None
            if time.monotonic() >= deadline:
                raise PayorxlError(f"{shown.name} is being changed by {holder}; nothing was written. Wait "
                                   "for it to finish, then run the command again")
            time.sleep(_LOCK_POLL)
            continue
        os.close(fd)
        fd = None
    if fd is None:
        yield None
        return
    try:
        try:
            os.lseek(fd, 0, os.SEEK_SET)     # where _holder reads it (whatever _try_lock did)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {command.split()[0] if command.strip() else 'run'} "
                         f"{platform.node() or '-'}\n".encode("utf-8", "replace"))
        except OSError:              # a read-only descriptor, a full disk: the lock holds anyway
            pass
        yield lock
    finally:
        if _UNLINK_WHILE_HELD:
            _unlink_quietly(lock)
        try:
            _unlock(fd)
        except OSError:
            pass
        os.close(fd)
        if not _UNLINK_WHILE_HELD:
            _unlink_quietly(lock)


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def file_state(path: Path) -> tuple:
    """What identifies this version of a file: inode, size and modification time (of
    the file a symlink points to). A missing or unreadable file has a state of its own,
    so a file that appears later counts as changed."""
    try:
        st = os.stat(path)
    except OSError:
        return (None, None, None)
    return st.st_ino, st.st_size, st.st_mtime_ns


def resolve(path: Path) -> Path:
    """The file a write to `path` replaces: a symlink's target (followed to the end)."""
    return Path(os.path.realpath(path))


def is_macro_enabled(names, content_types: bytes) -> bool:
    return VBA_PART in set(names) or XLSM_MAIN.lower().encode() in content_types.lower()


def _refuse_macros_as_xlsx(zin: zipfile.ZipFile, dst: Path, source: Path,
                           replace: Mapping[str, bytes], add: Mapping[str, bytes]) -> None:
    if dst.suffix.lower() != ".xlsx":
        return
    names = set(zin.namelist()) | set(add)
    types = replace.get(CONTENT_TYPES) or add.get(CONTENT_TYPES)
    if types is None:
        types = zin.read(CONTENT_TYPES) if CONTENT_TYPES in zin.namelist() else b""
    if is_macro_enabled(names, types):
        raise PayorxlError(f"{source.name} is a macro-enabled workbook, and Excel refuses to open one named "
                           f".xlsx ({dst.name}); nothing was written. Name it {dst.stem}.xlsm, or save a copy "
                           "without macros as .xlsx in Excel first")


# --- temp files ----------------------------------------------------------------------

TEMP_PREFIX = ".~payorxl-"
# A temp file is TEMP_PREFIX + the writer's PID + "-" + mkstemp's 8 random characters +
# the workbook's suffix; before the PID was in the name: TEMP_PREFIX + the 8 characters.
_TEMP_NAME = re.compile(r"\.~payorxl-(?:([0-9]{1,10})-)?[a-z0-9_]{8}(?i:\.xls[xm])")
STALE_GRACE = 10 * 60          # seconds: a dead writer's temp file is kept this long
STALE_ALWAYS = 24 * 60 * 60    # seconds: any temp file this old is stale, writer or not
log = logging.getLogger(__name__)


def temp_prefix() -> str:
    """The prefix of this process's temp files: the PID lets a later run tell a leftover."""
    return f"{TEMP_PREFIX}{os.getpid()}-"


def _pid_alive(pid: int) -> bool:
    """Whether `pid` may be a running process on this machine; unknown counts as alive.
    On Windows os.kill(pid, 0) is not a probe (0 is CTRL_C_EVENT there: it would send
    Ctrl+C), so there the answer is always 'maybe' and only the 24-hour rule applies."""
    if os.name == "nt" or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):   # PermissionError: alive, another user's
        return True
    return True


def sweep_stale_temps(folder: Path, now: float | None = None) -> list[Path]:
    """Remove payorxl temp files left in `folder` by a writer that was killed (SIGKILL,
    power loss) before it could rename or delete them: they can be as large as the
    workbook and hold the same patient data, and nothing else would ever remove them.

    A file is removed only if its name is exactly a payorxl temp name, it is a regular
    file (symlinks, folders are left alone, never followed), and either its writer's PID
    is not running here and it is older than STALE_GRACE (the grace covers a writer on
    another machine sharing the folder), or it is older than STALE_ALWAYS whatever its
    PID (old-style names without a PID go only by this rule). A removal that fails (no
    permission, already gone) is skipped: the sweep never makes a write fail. Returns the
    files removed; only their names are logged (never the folder, which may name a
    patient or practice)."""
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if not match:
            continue
        try:
            st = os.lstat(entry.path)
            if not stat.S_ISREG(st.st_mode):
                continue
            age = now - st.st_mtime
            pid = match.group(1)
            if age > STALE_ALWAYS or (pid is not None and age > STALE_GRACE and not _pid_alive(int(pid))):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
                log.info("removed stale temporary file %s", entry.name)
        except OSError:
            continue
    return removed


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _match_permissions(fd: int, tmp: str, real: Path) -> None:
    """Give the temp file what the file it replaces has: mode, owner and group (where
    this user may set them); for a new file the default mode, 0666 & ~umask. mkstemp
    makes 0600 files, which would lock a shared workbook's group out."""
    def chmod(mode):
        if os.chmod in os.supports_fd:
            os.chmod(fd, mode)
        else:
            os.chmod(tmp, mode)
    try:
        st = os.stat(real)
    except FileNotFoundError:
        chmod(0o666 & ~_umask())
        return
    mode = stat.S_IMODE(st.st_mode) & 0o777
    if hasattr(os, "fchown"):
        mine = os.fstat(fd)
        if (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
            try:
                os.fchown(fd, st.st_uid, st.st_gid)          # root: owner and group
            except OSError:
                try:
                    os.fchown(fd, -1, st.st_gid)             # a group this user is in
                except OSError:
                    pass
            if os.fstat(fd).st_gid != st.st_gid:
                mode &= ~0o070          # not the workbook's group: give ours nothing
    chmod(mode)


def _write_temp(target: Path, write, like: Path | None = None) -> str:
    """Call write(fileobj) on a temp file beside `target` (the real file, not a
    symlink), with target's permissions (or those of the file `like`), flushed and
    fsynced. Stale temp files of killed writers in that folder are removed first
    (sweep_stale_temps)."""
    sweep_stale_temps(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(), suffix=target.suffix, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            _match_permissions(f.fileno(), tmp, target if like is None else like)
            os.fsync(f.fileno())
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def new_temp(path: Path) -> str:
    """An empty temp file beside the file `path` names (a symlink's target), named as a
    sweep recognises, for a caller that builds a workbook itself and then calls
    install(tmp, path)."""
    real = resolve(Path(path))
    with _os_errors(Path(path)):
        sweep_stale_temps(real.parent)
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(), suffix=real.suffix, dir=real.parent)
        os.close(fd)
    return tmp


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# --- the rename ----------------------------------------------------------------------

def _changed_message(source: Path) -> str:
    return (f"{source.name} changed while payorxl was reading it (saved by someone else?); payorxl "
            "wrote nothing and the saved version is as it was. Run the command again")


def _commit(tmp: str, real: Path, shown: Path | None = None, source: Path | None = None,
            expect: tuple | None = None) -> None:
    """Rename the finished temp file over `real` and make the rename durable; before
    that, refuse (removing the temp file) if `source` is no longer at the state `expect`
    or if `shown` (the path as named) was opened in Excel meanwhile."""
    shown = Path(shown) if shown is not None else Path(real)
    try:
        _kill_point("temp-written")
        if expect is not None and file_state(source) != expect:
            raise PayorxlError(_changed_message(Path(source)))
        _refuse_locked(shown, again=True)
        _kill_point("before-rename")
        os.replace(tmp, real)
    except BaseException:
        _unlink(tmp)
        raise
    try:
        dfd = os.open(real.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    _kill_point("after-rename")


class _os_errors:
    """Turn a failed write (disk full, read-only folder, no permission) into a message
    that says the workbook was left as it was."""

    def __init__(self, target: Path):
        self.target = target

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if isinstance(error, OSError):
            raise PayorxlError(f"could not write {self.target.name} in {self.target.parent}: "
                               f"{error.strerror or error}; the workbook was not changed. Free some "
                               "space or choose a writable folder (--output)") from None
        return False


def atomic_write_bytes(target: Path, write) -> None:
    """Call write(fileobj) on a temp file beside `target`, fsync, then rename over it
    (through a symlink; keeping its permissions; refusing it read-only or open in Excel)."""
    shown = Path(target)
    real = resolve(shown)
    _refuse_read_only(shown)
    with _os_errors(shown):
        _commit(_write_temp(real, write), real, shown)


def atomic_copy(src: Path, dst: Path) -> None:
    """Copy the file `src` to `dst` (the --backup) the way every write goes: into a temp
    file beside dst's real file, with src's mode, group and modification time, fsynced,
    then renamed over dst. A copy that cannot complete (disk full) leaves dst — the
    previous backup — as it was, and no temp file; the message says so."""
    src, shown = Path(src), Path(dst)
    real = resolve(shown)
    _refuse_locked(shown)
    _refuse_read_only(shown)
    refuse_not_regular(src)

    def write(f):
        with open(src, "rb") as fin:
            shutil.copyfileobj(fin, f, 1 << 20)
    with _os_errors(shown):
        st = os.stat(src)
        tmp = _write_temp(real, write, like=resolve(src))
        try:
            os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        except OSError:
            pass
        _commit(tmp, real, shown)


def install(tmp: str | Path, dst: Path) -> None:
    """Put the finished file `tmp` (from new_temp, beside dst's real file) in place of
    `dst` as every write does: fsynced, with dst's permissions (a new file: the umask
    default), refused if dst is read-only or open in Excel; `tmp` is removed on failure."""
    shown = Path(dst)
    real = resolve(shown)
    tmp = str(tmp)
    with _os_errors(shown):
        try:
            _refuse_read_only(shown)
            fd = os.open(tmp, os.O_RDWR | getattr(os, "O_BINARY", 0))
            try:
                _match_permissions(fd, tmp, real)
                os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException:
            _unlink(tmp)
            raise
        _commit(tmp, real, shown)


# --- the package ---------------------------------------------------------------------

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_DATA_DESCRIPTOR = 0x08


def _copy_raw(zin: zipfile.ZipFile, zout: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Copy one member's compressed bytes unchanged (no inflate, no deflate): most of a
    large workbook is the user's own sheets, and recompressing them is most of the cost
    of a write. The CRC and sizes travel with it, so readers still verify the data."""
    zin.fp.seek(info.header_offset)
    header = _LOCAL_HEADER.unpack(zin.fp.read(_LOCAL_HEADER.size))
    if header[0] != zipfile.stringFileHeader:
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    zin.fp.seek(info.header_offset + _LOCAL_HEADER.size + header[10] + header[11])
    out = copy.copy(info)
    out.flag_bits &= ~_DATA_DESCRIPTOR      # sizes go in the local header instead
    out.extra = b""                          # FileHeader() writes a zip64 extra if needed
    out.header_offset = zout.fp.tell()
    zout.fp.write(out.FileHeader(zip64=out.file_size > zipfile.ZIP64_LIMIT
                                 or out.compress_size > zipfile.ZIP64_LIMIT))
    remaining = info.compress_size
    while remaining:
        chunk = zin.fp.read(min(remaining, 1 << 20))
        if not chunk:
            raise zipfile.BadZipFile(f"{info.filename} is truncated")
        zout.fp.write(chunk)
        remaining -= len(chunk)
    zout.filelist.append(out)
    zout.NameToInfo[out.filename] = out
    zout.start_dir = zout.fp.tell()
    zout._didModify = True


def _write_streamed(zout: zipfile.ZipFile, info: zipfile.ZipInfo, chunks, size_hint: int) -> None:
    """Write one member from `chunks()` (an iterable of bytes), compressed on the fly:
    a large sheet is never held whole. size_hint: how large it was before; rows appended
    as they stream may take it past 4 GiB whatever it was, so a member written this way
    always carries its ZIP64 sizes (Excel, LibreOffice and openpyxl read them)."""
    info.file_size = 0
    zip64 = True
    with zout.open(info, "w", force_zip64=zip64) as out:
        for chunk in chunks():
            out.write(chunk)


def write_package(src: str | Path | zipfile.ZipFile, dst: str | Path,
                  replace: Mapping[str, bytes] | None = None, add: Mapping[str, bytes] | None = None,
                  expect: tuple | None = None, remove: Collection[str] = ()) -> None:
    """Write the zip package `src` (a path, or an open ZipFile: it is closed before the
    rename, as Windows cannot replace an open file) to `dst` atomically, with the parts in
    `replace` rewritten in place, those in `add` appended and those in `remove` left out
    (the caller drops their relationships and content types). Every other part keeps its
    name, order, compression and compressed bytes. A part's new content is bytes, or a
    callable returning an iterable of bytes chunks (streamed: a large sheet is never
    held whole; it may read `src`, which stays open until the temp file is complete).
    `expect`: file_state(src) taken before the caller read it; if the file has changed
    since, nothing is written. See the module docstring for every other refusal."""
    replace, add = dict(replace or {}), dict(add or {})
    shown = Path(dst)
    real = resolve(shown)
    zin = src if isinstance(src, zipfile.ZipFile) else zipfile.ZipFile(src)
    source = Path(zin.filename) if isinstance(src, zipfile.ZipFile) else Path(src)
    with zin:
        _refuse_macros_as_xlsx(zin, shown, source, replace, add)
        _refuse_locked(shown)
        _refuse_read_only(shown)
        if expect is not None and file_state(source) != expect:
            raise PayorxlError(_changed_message(source))
        infos = zin.infolist()
        stamp = infos[0].date_time if infos else (1980, 1, 1, 0, 0, 0)

        def write(f):
            with zipfile.ZipFile(f, "w") as zout:
                for info in infos:
                    if info.filename in remove:
                        continue
                    data = replace.get(info.filename)
                    if data is None:
                        _copy_raw(zin, zout, info)
                    elif callable(data):
                        _write_streamed(zout, copy.copy(info), data, info.file_size)
                    else:
                        zout.writestr(copy.copy(info), data, compress_type=info.compress_type)
                for name, data in add.items():
                    new = zipfile.ZipInfo(name, date_time=stamp)
                    new.external_attr = 0o600 << 16
                    if callable(data):
                        new.compress_type = zipfile.ZIP_DEFLATED
                        _write_streamed(zout, new, data, 0)
                    else:
                        zout.writestr(new, data, compress_type=zipfile.ZIP_DEFLATED)
        with _os_errors(shown):
            tmp = _write_temp(real, write)
    with _os_errors(shown):
        _commit(tmp, real, shown, source, expect)


def rewrite_parts(src: Path, dst: Path, replace: dict[str, bytes], expect: tuple | None = None) -> None:
    """Copy the zip `src` to `dst` atomically, with the named parts' contents replaced
    (write_package with nothing added)."""
    write_package(src, dst, replace, None, expect)
