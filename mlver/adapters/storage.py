"""A DVC-layout object store on a local or mounted directory.

Objects are content addressed (``files/md5/ab/cdef...``), so writing them
ourselves keeps ``dvc pull`` working while skipping DVC's per-object
overhead. Every write goes to a temporary file first and is renamed into
place, so an interrupted transfer never leaves a truncated object behind.
"""
from __future__ import annotations

import errno
import hashlib
import itertools
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from mlver.adapters.atomic import default_mode, temp_beside, write_bytes
from mlver.adapters.placement import shared_token
from mlver.adapters.statcache import read_upto
from mlver.adapters.verified import expected as verified_md5
from mlver.adapters.verified import settle
from mlver.domain.validate import MD5, check_md5, check_relpath
from mlver.errors import CHANGED_HINT, ObjectChanged, ObjectNotInRemote, RemoteNotWritable

if TYPE_CHECKING:
    from mlver.adapters.remotestat import Ledger

CHUNK = 1024 * 1024
# Up to this size a file is read whole, hashed and written with one write:
# for small files a kernel copy's setup costs more than the bytes (measured:
# copy_file_range of a 4 KiB file ~160 us, a read and a write ~20 us).
SMALL = 1024 * 1024
# Large files are copied in the kernel in slices this big, each hashed (read
# back from the page cache) while the next one is copied.
SLICE = 32 * 1024 * 1024
# What a store's read() reads at most: a .dir manifest of a million files is ~90 MB.
MAX_READ = 256 * 1024 * 1024
Progress = Callable[[int], None]


def object_relpath(md5: str) -> str:
    """Where DVC 3 keeps an object, relative to a cache or remote root's ``files/md5``.

    The last line of defence: every store builds its paths and keys here, so
    a hash that is not one never becomes a path (``//etc/x``, ``../..``)."""
    check_md5(md5, "an object name")
    return f"{md5[:2]}/{md5[2:]}"


def md5_file(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_hashing(src: Path, dst: Path, progress: Progress | None = None, md5: str | None = None,
                 also: Path | None = None) -> str:
    """Copy ``src`` to ``dst`` atomically and return the md5 of the bytes written
    (``md5``: only if they are that object, see ``stream_hashing``)."""
    with open(src, "rb") as fin:
        return stream_hashing(fin, dst, progress, md5=md5, also=also)


def stream_hashing(fin: BinaryIO, dst: Path, progress: Progress | None = None, md5: str | None = None,
                   also: Path | None = None) -> str:
    """Write what ``fin`` reads to ``dst`` atomically (a temporary file beside
    it, renamed when complete); returns the md5 of the bytes read. ``md5``: a
    download of that object, renamed onto ``dst`` only if the bytes are it
    (``verified.settle``). ``also``: a new file that gets the same bytes
    (whoever asked removes it when they are not the object wanted)."""
    digest = hashlib.md5()
    fd, tmp = temp_beside(dst)
    try:
        with os.fdopen(fd, "wb") as fout, (open(also, "xb") if also is not None else _NoTee()) as tee:
            while chunk := fin.read(CHUNK):
                digest.update(chunk)
                fout.write(chunk)
                tee.write(chunk)
                if progress:
                    progress(len(chunk))
        settle(tmp, dst, digest.hexdigest(), md5 or digest.hexdigest())
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return digest.hexdigest()


class _NoTee:
    """Where the bytes go when there is no second file to fill."""

    def __enter__(self) -> _NoTee:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def write(self, data: bytes) -> int:
        return len(data)


def read_small(path: Path | str) -> tuple[bytes | None, os.stat_result]:
    """(the whole content of ``path`` when it is at most ``SMALL`` bytes, else
    None; its stat): one open, one fstat, one read."""
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        return (fh.read() if st.st_size <= SMALL else None), st


def write_new(path: str, data: bytes, mode: int, umasked: int = 0o777) -> None:
    """Create ``path`` (it must not exist) holding ``data``, with permissions
    ``mode`` (set exactly when the umask, ``umasked`` being what it lets
    through, would take bits of it away)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        if mode & ~umasked & 0o777:
            os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def copy_range(fd_in: int, fd_out: int, offset: int, n: int, what: str, fallback: bool = False) -> None:
    """Copy ``n`` bytes at ``offset`` from one file to the same place in another,
    in the kernel. ``fallback``: through user space where the kernel cannot
    copy between the two (else that OSError is raised)."""
    done = 0
    while done < n:
        try:
            step = os.copy_file_range(fd_in, fd_out, n - done, offset + done, offset + done)
        except OSError as exc:
            if not fallback or exc.errno not in _NO_KERNEL_COPY:
                raise
            data = os.pread(fd_in, min(n - done, CHUNK), offset + done)
            step = os.pwrite(fd_out, data, offset + done) if data else 0
        if step == 0:
            raise OSError(errno.EIO, "the file shrank while it was copied", what)
        done += step


def copy_verified(src: Path | str, dst: Path | str, progress: Progress | None = None,
                  also: Path | str | None = None) -> str:
    """Copy ``src`` to the new file ``dst`` in the kernel (``copy_file_range``:
    a reflink where the filesystem shares extents) and return the md5 of what
    landed in ``dst``. A worker thread copies each slice and reads it back
    from the page cache while this thread hashes the slice before it, so the
    whole costs about as long as hashing alone when a core is free. ``also``:
    a second new file that gets the same slices of ``dst``, copied in the
    kernel as they land (a pull's staged workspace copy: no second pass over
    the bytes after). OSError (EXDEV, ENOSYS, ...) where the kernel cannot
    copy between the files."""
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import ExitStack

    digest = hashlib.md5()
    with ExitStack() as files:
        fin, fout = files.enter_context(open(src, "rb")), files.enter_context(open(dst, "xb"))
        back = files.enter_context(open(dst, "rb", buffering=0))
        tee = files.enter_context(open(also, "xb", buffering=0)) if also is not None else None
        size = os.fstat(fin.fileno()).st_size
        # Two slices' buffers: the worker fills one while this thread hashes the other
        # (a fresh 32 MiB buffer per slice cost as much again as reading it back).
        buffers = [memoryview(bytearray(min(SLICE, size))) for _ in range(2 if size > SLICE else 1)] if size else []

        def copy(offset: int, view: memoryview) -> memoryview:
            n = min(SLICE, size - offset)
            copy_range(fin.fileno(), fout.fileno(), offset, n, str(src))
            if tee is not None:
                # A kernel copy costs a third of writing the read-back bytes (measured).
                copy_range(back.fileno(), tee.fileno(), offset, n, str(dst))
            got = 0
            while got < n:
                step = os.preadv(back.fileno(), [view[got:n]], offset + got)
                if not step:
                    raise OSError(errno.EIO, "a copied slice could not be read back", str(dst))
                got += step
            return view[:n]

        with ThreadPoolExecutor(1) as pool:
            offset, turn = 0, 0
            pending = pool.submit(copy, 0, buffers[0]) if size else None
            while pending is not None:
                view = pending.result()
                offset += len(view)
                turn ^= len(buffers) - 1
                pending = pool.submit(copy, offset, buffers[turn]) if offset < size else None
                digest.update(view)  # (the worker fills the other buffer meanwhile)
                if progress:
                    progress(len(view))
    return digest.hexdigest()


class Tee:
    """Copies what a download has written so far into its file on to a second
    new file, in the kernel, on a worker thread: the second copy is made while
    the next bytes are on the wire, not after. Use: ``upto(n)`` after each
    write (``n``: bytes written and flushed so far), ``finish(n)`` at the end."""

    def __init__(self, written: Path | str, also: Path | str) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._what = str(written)
        self._in = os.open(written, os.O_RDONLY | os.O_CLOEXEC)
        try:
            self._out = os.open(also, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except BaseException:
            os.close(self._in)
            raise
        self._pool = ThreadPoolExecutor(1)
        self._pending: list[Any] = []
        self._sent = 0

    def upto(self, n: int, step: int = SLICE) -> None:
        if n - self._sent >= step:
            still = []
            for future in self._pending:
                if future.done():
                    future.result()  # a failed copy fails the download now
                else:
                    still.append(future)
            self._pending = still
            self._pending.append(self._pool.submit(copy_range, self._in, self._out, self._sent, n - self._sent,
                                                   self._what, True))
            self._sent = n

    def finish(self, n: int) -> None:
        self.upto(n, 1)
        for future in self._pending:
            future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        os.close(self._in)
        os.close(self._out)


_NO_KERNEL_COPY = (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF)


def copy_checked(src: Path | str, dst: Path | str, progress: Progress | None = None,
                 also: Path | str | None = None) -> str:
    """``copy_verified``, or a copy through user space where the kernel cannot copy."""
    try:
        return copy_verified(src, dst, progress, also)
    except OSError as exc:
        if exc.errno not in _NO_KERNEL_COPY:
            raise
    Path(dst).unlink(missing_ok=True)  # the first slice failed: nothing was told to progress
    if also is not None:
        Path(also).unlink(missing_ok=True)
    return copy_hashing(Path(src), Path(dst), progress, also=Path(also) if also is not None else None)


def _copy_twice(src: Path | str, dst: Path | str, also: Path | None) -> int:
    """``placement.copy_file`` to ``dst`` and, on a second thread at the same
    time, to ``also``: each kernel copy keeps one core busy (a page-cache
    copy), so with a core free the two cost about as long as one. Returns the
    size copied to ``dst``."""
    from mlver.adapters.placement import copy_file

    if also is None:
        return copy_file(Path(src), Path(dst))
    import threading

    failed: list[BaseException] = []

    def second() -> None:
        try:
            copy_file(Path(src), also)
        except BaseException as exc:  # raised in the caller's thread below
            failed.append(exc)

    worker = threading.Thread(target=second, name="mlver-copy", daemon=True)
    worker.start()
    try:
        size = copy_file(Path(src), Path(dst))
    finally:
        worker.join()
    if failed:
        raise failed[0]
    return size


# Where an open file can be opened anew (Linux): without it, no copy is taken on trust.
_PINNED = "/proc/self/fd"


def pinned(fd: int) -> str | None:
    """A path that opens the file ``fd`` is open on, whatever has its name now (the
    stats compared and the bytes copied are then of one file); None without /proc."""
    return f"{_PINNED}/{fd}" if os.path.isdir(_PINNED) else None


def check_meta_path(relpath: str) -> str:
    """A path under the store's ``mlver/`` folder, never one of DVC's."""
    if not relpath.startswith("mlver/") and relpath != "mlver":
        raise ValueError(f"not an mlver path: {relpath!r}")
    return check_relpath(relpath, "a path in a remote")


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def install(staged: str | Path, final: str | Path) -> os.stat_result:
    """Rename ``staged`` (a file this run wrote, in a folder no one else writes) onto
    ``final`` (a planted symlink there is replaced, not followed) and return the stat
    of the file renamed, from a descriptor opened before the rename: by name, once in
    a shared folder, it could be the stat of a file a co-user renamed over it
    meanwhile, and a stat cache would then vouch for bytes never hashed. (A rename
    changes the file's ctime, so the stat is taken after it.) A staged file that is
    not one of ours alone (another user's, or a hard link to some file of ours: its
    folder was swapped for another) is refused: OSError, nothing renamed."""
    import stat

    fd = os.open(staged, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_nlink != 1:
            raise OSError(errno.EPERM, "the staged file is not the one this run wrote", os.fspath(staged))
        try:
            os.replace(staged, final)
        except FileNotFoundError:
            if not os.path.exists(staged):
                raise
            os.makedirs(os.path.dirname(final), exist_ok=True)
            os.replace(staged, final)
        return os.fstat(fd)
    finally:
        os.close(fd)


def _own_folder(path: str) -> bool:
    """Whether ``path`` is a directory (not a link to one) of this user that no one else may write or enter."""
    import stat

    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o077


class LocalStore:
    """A directory holding objects under ``files/md5`` (a DVC remote or cache)."""

    jobs = 1  # a local disk gains little from parallel copies (measured: more threads only add kernel contention)
    tee = True  # get() and ingest() can fill a second file in the same pass
    trusts_known = True  # put(trusted=True): a cache object the stat cache vouches for is not hashed

    def __init__(self, objects_dir: Path, label: str, ledger: Ledger | None = None) -> None:
        """``ledger``: a remote's, the record of which of its objects mlver hashed, with
        their stat then (adapters/remotestat.py): what it writes is recorded there, a
        large object it holds is copied out without hashing while its stat is the one recorded."""
        self.objects_dir = objects_dir
        self.label = label
        # Objects are written in one folder of their own and renamed into
        # place: what a killed run leaves is in one place, swept by the next.
        top = objects_dir.parent.parent if objects_dir.parts[-2:] == ("files", "md5") else objects_dir
        self.tmp_dir = top / "mlver-tmp"  # shared by the users of a shared cache or remote
        self._staging: str | None = None  # this user's folder in it (``_private_staging``)
        self._staging_lock = threading.Lock()
        self._token = shared_token()
        self._count = itertools.count()
        self._swept: set[Path | str] = set()
        self._objects = os.fspath(objects_dir)
        self._mode = default_mode()  # once: reading the umask sets it, which races with other threads
        self.ledger = ledger
        self._real: str | None = None

    def real_final(self, md5: str) -> str:
        """``final(md5)`` with the store's folder's symlinks resolved (a ledger's key)."""
        if self._real is None:
            self._real = os.path.realpath(self._objects)
        return f"{self._real}/{object_relpath(md5)}"

    def temp_path(self) -> Path:
        """A new name in the store's temporary folder (same filesystem as its objects)."""
        return Path(self._temp_name())

    def _temp_name(self) -> str:
        if self._staging is None:
            with self._staging_lock:
                if self._staging is None:
                    self._staging = self._private_staging()
        return f"{self._staging}/{self._token}-{next(self._count)}"

    def _private_staging(self) -> str:
        """A folder only this user can write, in the store's ``mlver-tmp``, to stage
        objects in. In a shared cache or remote (DVC's ``shared = group``) the users
        share ``mlver-tmp``: a staged file there could be renamed over between its
        hash and its rename into place, and the bytes that landed, and the stat a
        stat cache kept, were another user's. The folder is ``user-<uid>``, checked
        (ours, a directory, not a link, open to no one else); when it is not (planted
        by someone else), one of this run's own. (A co-user can still rename the
        folder away and plant another: ``install`` refuses a file that is not ours.)"""
        from mlver.adapters.placement import sweep_shared

        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        sweep_shared(self.tmp_dir)  # (what dead runs of older versions left in the shared folder)
        mine = f"{self.tmp_dir}/user-{os.geteuid()}"
        try:
            os.mkdir(mine, 0o700)
        except FileExistsError:
            pass
        if not _own_folder(mine):
            mine = tempfile.mkdtemp(prefix=f"{self._token}-", dir=self.tmp_dir)  # (swept once this run is gone)
            if not _own_folder(mine):
                raise RemoteNotWritable(self.label, f"its folder {mine} was taken over while it was made")
        sweep_shared(Path(mine))  # (this user's runs on other hosts stage there too)
        return mine

    def _sweep_beside(self, final: str) -> None:
        """Once per object folder: the ``.NAME.XXXX.mlver-tmp`` files older versions left there."""
        folder = os.path.dirname(final)
        if folder not in self._swept:
            from mlver.adapters.placement import sweep_old_temps

            sweep_old_temps(Path(folder))
            self._swept.add(folder)

    def path(self, md5: str) -> Path:
        return self.objects_dir / object_relpath(md5)

    def final(self, md5: str) -> str:
        """``path(md5)`` as a string, without pathlib (called per object)."""
        return f"{self._objects}/{object_relpath(md5)}"

    def has(self, md5: str) -> bool:
        return self.path(md5).is_file()

    def size(self, md5: str) -> int | None:
        try:
            return self.path(md5).stat().st_size
        except FileNotFoundError:
            return None

    def existing(self, md5s: Iterable[str]) -> set[str]:
        """The ones of ``md5s`` stored here. Many are answered by listing
        each two-digit folder once instead of a stat per object."""
        wanted = set(md5s)
        if len(wanted) < 64:
            return {m for m in wanted if self.has(m)}
        by_prefix: dict[str, list[str]] = {}
        for md5 in wanted:
            object_relpath(md5)  # refuses what is not a hash before it becomes a path
            by_prefix.setdefault(md5[:2], []).append(md5)
        found: set[str] = set()
        for prefix, md5s_there in by_prefix.items():
            try:
                with os.scandir(self.objects_dir / prefix) as entries:
                    # is_file() follows a symlink, as has() does (d_type answers the rest without a stat).
                    names = {e.name for e in entries if e.is_file()}
            except (FileNotFoundError, NotADirectoryError):
                continue
            found.update(m for m in md5s_there if m[2:] in names)
        return found

    def md5_of(self, md5: str) -> str | None:
        return md5_file(self.path(md5)) if self.has(md5) else None

    def check_writable(self) -> None:
        try:
            self.objects_dir.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".mlver-probe-", dir=self.objects_dir)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise RemoteNotWritable(self.label, str(exc.strerror or exc)) from exc

    def ingest(self, src: Path | str, md5: str, progress: Progress | None = None, trusted: bool = False,
               mode: int | None = None, also: Path | None = None,
               origin: LocalStore | None = None) -> tuple[str, int, os.stat_result | None]:
        """Store the file ``src`` as object ``md5`` if its bytes hash to that name;
        returns (the md5 of what was read, its size, the stat of the large object
        installed, from its own descriptor: see ``install``), and leaves nothing when
        they differ. ``trusted``: ``src`` is a cache object whose hash mlver
        knows from its stat; a large one is then copied in the kernel without
        hashing. Small files are always hashed (it costs less than a stat
        lookup). ``mode``: the object's permissions (default: a plain file's).
        ``also``: a new file that gets the same bytes in the same pass (a
        pull's workspace copy, staged); removed when they do not match.
        ``origin``: the folder remote ``src`` is object ``md5`` of: a large one is
        copied out by it (``copy_out``: without hashing where its ledger vouches for it)."""
        data, st = read_small(src)
        if data is not None:
            written = self.add(data, md5, mode, also)
            if progress:
                progress(len(data))
            return written, len(data), None
        installed = None
        final = self.final(md5)
        self._sweep_beside(final)
        expected = verified_md5(md5)
        staged = self._temp_name()
        try:
            written = (origin.copy_out(md5, staged, progress, also) if origin is not None else
                       self._copy_large(src, staged, expected if trusted else None, progress, also))
            if written == expected:
                os.chmod(staged, self._mode if mode is None else mode)
                sealed = self.ledger.backdate(staged) if self.ledger is not None else None
                installed = install(staged, final)
                if sealed is not None and self.ledger is not None:
                    self.ledger.pushed(self.real_final(md5), expected, sealed)
        except BaseException:
            if also is not None:
                _unlink(os.fspath(also))
            raise
        finally:
            _unlink(staged)
        if also is not None and written != expected:
            _unlink(os.fspath(also))
        return written, st.st_size, installed  # (progress was told as the bytes were copied)

    def add(self, data: bytes, md5: str, mode: int | None = None, also: Path | None = None) -> str:
        """Store ``data`` (bytes already in memory: a small file, a small download)
        as object ``md5`` if it hashes to that name, in one create and one rename;
        else write nothing. Returns the md5 of ``data``. ``mode``: the object's
        permissions (default: a plain file's); ``also``: a new file that gets the
        same bytes when they match (removed when they do not)."""
        final = self.final(md5)
        written = hashlib.md5(data).hexdigest()
        if written != verified_md5(md5):
            if also is not None:
                _unlink(os.fspath(also))
            return written
        self._sweep_beside(final)
        staged = self._temp_name()
        try:
            if also is not None:
                write_new(os.fspath(also), data, self._mode)
            write_new(staged, data, self._mode if mode is None else mode, self._mode | 0o111)
            install(staged, final)
        except BaseException:
            _unlink(staged)
            if also is not None:
                _unlink(os.fspath(also))
            raise
        return written

    @staticmethod
    def _copy_large(src: Path | str, staged: str, known: str | None, progress: Progress | None,
                    also: Path | None = None) -> str:
        """Copy to ``staged`` (and ``also``); the md5 of what landed there (``known`` when given:
        not hashed, unless ``src`` changed while it was copied)."""
        if known is not None:
            before = os.stat(src)
            size = _copy_twice(src, staged, also)
            after = os.stat(src)
            if size == after.st_size and (before.st_ino, before.st_mtime_ns, before.st_ctime_ns) == (
                    after.st_ino, after.st_mtime_ns, after.st_ctime_ns):
                if progress:
                    progress(size)
                return known
            _unlink(staged)  # written to meanwhile: hashed, from the start
            if also is not None:
                _unlink(os.fspath(also))
        return copy_checked(src, staged, progress, also)

    def copy_out(self, md5: str, staged: str, progress: Progress | None = None, also: Path | None = None) -> str:
        """Copy the large object ``md5`` to the new file ``staged`` (and ``also``) and
        return the md5 of what landed. Without hashing when this store's ledger
        holds the object's stat and the stat is the same after the copy (a change
        while it was copied shows in it); else hashed as it is copied, and with a
        ledger the stat recorded (``Ledger.verified``) when the bytes are the object."""
        src = self.final(md5)
        if self.ledger is None or not os.path.isdir(_PINNED):
            return copy_checked(src, staged, progress, also)
        ledger, name, want = self.ledger, self.real_final(md5), verified_md5(md5)
        looked = time.time_ns()
        # One open file: the stats compared and the bytes copied are of one file. By
        # name they could be of two: a folder renamed (swapped with another holding other
        # bytes, and back) changes no stat of the files in it. The copies open it anew
        # through /proc (an open file of their own: the two threads' offsets stay apart).
        fd = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
        try:
            path, before = f"{_PINNED}/{fd}", os.fstat(fd)
            if ledger.trusts(name, want, before):
                size = _copy_twice(path, staged, also)
                if size == before.st_size and ledger.trusts(name, want, os.fstat(fd)):
                    ledger.counts["trusted"] += 1
                    if progress:
                        progress(size)
                    return want
                _unlink(staged)  # changed while copied: hashed below, from the start
                if also is not None:
                    _unlink(os.fspath(also))
            got = copy_checked(path, staged, progress, also)
            ledger.counts["hashed"] += 1
            if got == want:
                ledger.verified(name, want, before, os.fstat(fd), looked)
            else:
                ledger.forget(name)
            return got
        finally:
            os.close(fd)

    def put(self, src: Path, md5: str, progress: Progress | None = None, trusted: bool = False) -> None:
        """Write object ``md5`` from ``src``, hashing the bytes on the way (``trusted``:
        ``src`` is a cache object whose hash is known, copied in the kernel)."""
        written, _, _ = self.ingest(src, md5, progress, trusted)
        if written != verified_md5(md5):
            raise ObjectChanged(str(src), written, md5, CHANGED_HINT)

    def get(self, md5: str, dst: Path, progress: Progress | None = None, also: Path | None = None) -> str:
        """Copy an object to ``dst`` atomically, only if its bytes are that
        object; returns the md5 of what was read. ``also``: a new file that
        gets the same bytes (the caller removes it on a mismatch)."""
        src = self.final(md5)
        try:
            data, _ = read_small(src)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotInRemote(md5, self.label) from None
        staged = f"{dst}.{self._token}-{next(self._count)}"
        try:
            if data is None:
                got = self.copy_out(md5, staged, progress, also)
            else:
                got = hashlib.md5(data).hexdigest()
                write_new(staged, data, self._mode)
                if also is not None:
                    write_new(os.fspath(also), data, self._mode)
            settle(staged, dst, got, md5, self._mode)
        except BaseException:
            _unlink(staged)
            raise
        if progress and data is not None:
            progress(len(data))
        return got

    def read(self, md5: str) -> bytes | None:
        """A small object whole (a directory manifest): at most ``MAX_READ`` + 1
        bytes, so a longer one (a link to /dev/zero too) is refused by its md5."""
        try:
            with open(self.path(md5), "rb") as fh:
                return read_upto(fh, MAX_READ)
        except FileNotFoundError:
            return None

    def remove(self, md5: str) -> None:
        self.path(md5).unlink(missing_ok=True)

    def objects(self) -> dict[str, tuple[int, float]]:
        """Every object stored -> (size, mtime); anything else (a temporary file) is left out."""
        found: dict[str, tuple[int, float]] = {}
        try:
            prefixes = list(os.scandir(self.objects_dir))
        except (FileNotFoundError, NotADirectoryError):
            return found
        for prefix in prefixes:
            if len(prefix.name) != 2 or not prefix.is_dir(follow_symlinks=False):
                continue
            with os.scandir(prefix.path) as entries:
                for entry in entries:
                    name = prefix.name + entry.name
                    if MD5.fullmatch(name) and entry.is_file(follow_symlinks=False):
                        info = entry.stat(follow_symlinks=False)
                        found[name] = (info.st_size, info.st_mtime)
        return found

    # mlver's own small files beside the objects (gc manifests), outside files/md5 so DVC leaves them be.

    def _meta(self, relpath: str) -> Path:
        return self.objects_dir.parent.parent / check_meta_path(relpath)

    def meta_names(self, folder: str) -> list[str]:
        try:
            return sorted(e.name for e in os.scandir(self._meta(folder)) if e.is_file(follow_symlinks=False)
                          and not e.name.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def meta_read(self, relpath: str, limit: int) -> bytes | None:
        """At most ``limit`` + 1 bytes of the file (the caller refuses a longer one)."""
        try:
            with open(self._meta(relpath), "rb") as fh:
                return read_upto(fh, limit)
        except (FileNotFoundError, IsADirectoryError):
            return None

    def meta_write(self, relpath: str, data: bytes) -> None:
        write_bytes(self._meta(relpath), data)


def readonly(path: Path) -> None:
    # DVC keeps cache objects read-only so a link into the workspace cannot
    # be edited in place; do the same for objects we put in the cache.
    try:
        os.chmod(path, 0o444)
    except OSError:
        pass
