"""A private OpenLink Virtuoso for the corpus benchmark (``--virtuoso``): a benchmark helper, not a test.

Started the way ``tests/test_virtuoso.py`` starts one: ``virtuoso-t`` in the foreground on free
127.0.0.1 ports with a database folder of its own, SPARQL Update granted to the anonymous user
through ``isql``. The buffers are sized for a corpus of a thousand plans (2.3 M triples):
``NumberOfBuffers`` 8 KB pages, about 1.3 GB here.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
Striping = 0
[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
CaseMode = 2
DirsAllowed = ., {d}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {root}
ServerThreads = 4
Charset = UTF-8
EnabledGzipContent = 0
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = {max_seconds}
MaxQueryCostEstimationTime = 0
"""


def virtuoso_ini(folder: Path, sql: int, http: int, *, buffers: int = 170000, dirty: int = 130000,
                 root: Path | None = None, max_seconds: int = 300) -> str:
    """The ini of a private Virtuoso (also used by tests/test_virtuoso.py, with small buffers).

    ``buffers`` are 8 KB pages (170,000: about 1.3 GB, for a thousand plans); ``dirty`` the most of
    them written back at a time; ``root`` is the HTTP server root (default: the database folder)."""
    return INI.format(d=folder, sql=sql, http=http, buffers=buffers, dirty=dirty,
                      root=root or folder, max_seconds=max_seconds)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.glob("virtuoso*.db"))


@contextlib.contextmanager
def virtuoso(folder: Path, seconds: float = 180.0) -> Iterator[tuple[str, Path]]:
    """Run a Virtuoso with its database in ``folder``; yields (SPARQL endpoint URL, folder)."""
    exe = shutil.which("virtuoso-t")
    isql = shutil.which("isql-vt") or shutil.which("isql")
    if exe is None or isql is None:
        raise SystemExit("virtuoso-t / isql-vt not installed (apt-get install virtuoso-opensource)")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    sql, http = _free_port(), _free_port()
    (folder / "virtuoso.ini").write_text(virtuoso_ini(folder, sql, http))
    url = f"http://127.0.0.1:{http}/sparql"
    with (folder / "stdout.log").open("wb") as log:
        proc = subprocess.Popen([exe, "+foreground", "+configfile", str(folder / "virtuoso.ini")],
                                stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    try:
        deadline = time.monotonic() + seconds
        while True:
            try:
                with urllib.request.urlopen(f"{url}?query=ASK%7B%7D", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"virtuoso-t did not start; see {folder / 'virtuoso.log'}")
            time.sleep(0.5)
        grant = 'GRANT SPARQL_UPDATE TO "SPARQL"; DB.DBA.RDF_DEFAULT_USER_PERMS_SET (\'nobody\', 7);'
        subprocess.run([isql, f"127.0.0.1:{sql}", "dba", "dba", f"exec={grant}"], check=True,
                       capture_output=True, timeout=120)
        yield url, folder
        subprocess.run([isql, f"127.0.0.1:{sql}", "dba", "dba", "exec=checkpoint;"], capture_output=True,
                       timeout=600)
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


def database_bytes(folder: Path) -> int:
    """The size of the Virtuoso database files (after a checkpoint)."""
    return _du(folder)
