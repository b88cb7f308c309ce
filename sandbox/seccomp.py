"""The syscall filter, compiled to a classic BPF program with libseccomp (via ctypes).

bubblewrap loads it with ``--seccomp FD`` just before it executes the sandboxed program,
so the launcher and everything it starts run under it. The filter is a deny list on top of
what namespaces and an unprivileged uid already forbid:

- sockets of any family but ``AF_UNIX`` (no network even if a namespace leaked);
- ``ptrace``, ``process_vm_readv/writev``, ``pidfd_getfd``, ``kcmp``: no peeking into processes;
- ``unshare``, ``setns`` and namespace flags on ``clone`` (``clone3`` answers ``ENOSYS``
  so that libc falls back to ``clone``, whose flags the filter can see);
- the mount API, ``bpf``, ``keyctl``/``add_key``/``request_key``, ``perf_event_open``,
  ``userfaultfd``, ``io_uring_*``, module loading, ``kexec``, ``reboot``, ``swapon``,
  ``acct``, ``open_by_handle_at``, ``TIOCSTI``/``TIOCLINUX`` ioctls;
- ``inotify_*`` and ``fanotify_*``: no watching which shared files other sandboxes open.

Syscalls of other architectures (i386 ``int 0x80``, x32) kill the process: libseccomp's
default for foreign architectures. ``memfd_create`` and ioctls on device files stay allowed
(CUDA needs them).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import os

__all__ = ["SeccompUnavailable", "filter_bpf"]

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_NE = 1
SCMP_CMP_MASKED_EQ = 7
AF_UNIX = 1
TIOCSTI = 0x5412
TIOCLINUX = 0x541C
NAMESPACE_FLAGS = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)
DENIED = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    "kcmp",
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "bpf",
    "keyctl",
    "add_key",
    "request_key",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "open_by_handle_at",
    "name_to_handle_at",
    "lookup_dcookie",
    "quotactl",
    "syslog",
    "iopl",
    "ioperm",
    "vhangup",
    # watching the shared read-only folders would show what concurrent jobs open
    "inotify_init",
    "inotify_init1",
    "inotify_add_watch",
    "fanotify_init",
    "fanotify_mark",
)


class SeccompUnavailable(RuntimeError):
    pass


class _Arg(ctypes.Structure):
    _fields_ = (
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    )


def _errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


def _library() -> ctypes.CDLL:
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError as exc:
        raise SeccompUnavailable(f"libseccomp is not installed ({exc})") from None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = (ctypes.c_uint32,)
    lib.seccomp_release.argtypes = (ctypes.c_void_p,)
    lib.seccomp_syscall_resolve_name.argtypes = (ctypes.c_char_p,)
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_rule_add_array.argtypes = (
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_Arg),
    )
    lib.seccomp_export_bpf.argtypes = (ctypes.c_void_p, ctypes.c_int)
    return lib


@functools.cache
def filter_bpf() -> bytes:
    """The compiled filter (cached; about 0.5 KB). Raises ``SeccompUnavailable``."""
    lib = _library()
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        raise SeccompUnavailable("seccomp_init failed")
    try:

        def rule(name: str, action: int, *args: tuple[int, int, int, int]) -> None:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr == -1 or nr == -(2**31):  # unknown on this architecture: nothing to deny
                return
            array = (_Arg * len(args))(*(_Arg(*a) for a in args)) if args else None
            rc = lib.seccomp_rule_add_array(ctx, action, nr, len(args), array)
            if rc != 0:
                raise SeccompUnavailable(f"seccomp rule for {name} failed ({rc})")

        rule("socket", _errno(errno.EAFNOSUPPORT), (0, SCMP_CMP_NE, AF_UNIX, 0))
        rule("socketpair", _errno(errno.EAFNOSUPPORT), (0, SCMP_CMP_NE, AF_UNIX, 0))
        for name in DENIED:
            rule(name, _errno(errno.EPERM))
        rule("clone3", _errno(errno.ENOSYS))
        for flag in NAMESPACE_FLAGS:
            rule("clone", _errno(errno.EPERM), (0, SCMP_CMP_MASKED_EQ, flag, flag))
        for request in (TIOCSTI, TIOCLINUX):
            # the kernel reads the request as 32 bits: compare only those
            rule("ioctl", _errno(errno.EPERM), (1, SCMP_CMP_MASKED_EQ, 0xFFFFFFFF, request))
        fd = os.memfd_create("studybot-seccomp", os.MFD_CLOEXEC)
        try:
            rc = lib.seccomp_export_bpf(ctx, fd)
            if rc != 0:
                raise SeccompUnavailable(f"seccomp_export_bpf failed ({rc})")
            size = os.lseek(fd, 0, os.SEEK_END)
            os.lseek(fd, 0, os.SEEK_SET)
            return os.read(fd, size)
        finally:
            os.close(fd)
    finally:
        lib.seccomp_release(ctx)
