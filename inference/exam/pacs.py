"""Talking to a PACS (Qt-free): C-ECHO, C-STORE, the modality worklist (C-FIND), and an
on-disk send queue that survives a restart and retries while the PACS is down.

Every failure becomes a :class:`PacsError` whose message is one plain line, e.g.
``ORTHANC@127.0.0.1:4242 refused the association: called AE title not recognised``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset

from ...capture.workers import spawn
from .dicom_write import Identity

DEFAULT_CALLING_AET = "SONOLIVE"
_AET = re.compile(r"^[\x20-\x7e]{1,16}$")


class PacsError(RuntimeError):
    """A PACS could not be reached or refused; the message is one line for the user."""


@dataclass(frozen=True)
class Destination:
    aet: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.aet}@{self.host}:{self.port}"


def check_aet(aet: str) -> str:
    """``aet`` if it is a valid AE title (1-16 printable ASCII characters, not all spaces)."""
    if not _AET.match(aet or "") or not aet.strip() or "\\" in aet:
        raise ValueError(f"'{aet}' is not an AE title (1 to 16 letters, digits or symbols)")
    return aet


def parse_destination(text: str) -> Destination:
    """``AET@HOST:PORT`` -> :class:`Destination`; ValueError with a plain line otherwise."""
    m = re.match(r"^([^@]+)@(.+):(\d{1,5})$", (text or "").strip())
    if not m:
        raise ValueError(f"'{text}' is not a PACS address: write it as AET@HOST:PORT")
    port = int(m.group(3))
    if not 0 < port < 65536:
        raise ValueError(f"'{text}': port {port} is out of range (1-65535)")
    return Destination(check_aet(m.group(1)), m.group(2).strip("[]"), port)


# association-reject reasons (PS3.8 9.3.4), by (source, reason)
_REJECT = {
    (1, 1): "no reason given",
    (1, 2): "application context not supported",
    (1, 3): "calling AE title not recognised",
    (1, 7): "called AE title not recognised",
    (2, 1): "no reason given",
    (2, 2): "protocol version not supported",
    (3, 1): "temporary congestion",
    (3, 2): "local limit exceeded",
}


def _associate(dest: Destination, calling: str, contexts: list, timeout: float = 10.0):
    from pynetdicom import AE

    ae = AE(ae_title=check_aet(calling))
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout
    ae.connection_timeout = min(timeout, 5.0)
    for ctx in contexts:
        ae.add_requested_context(*ctx)
    assoc = ae.associate(dest.host, dest.port, ae_title=dest.aet)
    if assoc.is_established:
        return assoc
    if assoc.is_rejected and assoc.acceptor.primitive is not None:
        p = assoc.acceptor.primitive
        src, diag = p.result_source, p.diagnostic
        why = "no reason given"
        if src is not None and diag is not None:  # a rejection carries both
            why = _REJECT.get((int(src), int(diag)), why)
        raise PacsError(f"{dest} refused the association: {why}")
    raise PacsError(f"no answer from {dest} (connection refused, wrong port or host down)")


def echo(dest: Destination, calling: str = DEFAULT_CALLING_AET, timeout: float = 10.0) -> None:
    """C-ECHO: returns when ``dest`` answers, else raises :class:`PacsError`."""
    # pynetdicom makes its SOP class names at import time: not visible to type checkers
    from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

    assoc = _associate(dest, calling, [(Verification,)], timeout)
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    if not status or int(status.Status) != 0:
        raise PacsError(f"{dest} did not answer the echo (C-ECHO failed)")


def _contexts(paths: list[Path]) -> list[tuple[str, list[str]]]:
    seen: dict[str, set[str]] = {}
    for p in paths:
        ds = dcmread(p, stop_before_pixels=True)
        seen.setdefault(str(ds.SOPClassUID), set()).add(str(ds.file_meta.TransferSyntaxUID))
    return [(sop, sorted(ts)) for sop, ts in seen.items()]


def read_dicom(path: str | Path) -> Dataset:
    """Read a DICOM file; ValueError with a plain line when it is not one."""
    path = Path(path)
    try:
        ds = dcmread(path, stop_before_pixels=True)
        _ = ds.SOPClassUID, ds.SOPInstanceUID, ds.file_meta.TransferSyntaxUID
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a folder, not a DICOM file") from None
    except Exception:  # noqa: BLE001 - any parse failure: one line
        raise ValueError(f"{path}: not a DICOM file (no SOP class or instance UID)") from None
    return ds


def store(
    paths: Iterable[str | Path],
    dest: Destination,
    calling: str = DEFAULT_CALLING_AET,
    timeout: float = 30.0,
) -> list[tuple[Path, str | None]]:
    """C-STORE every file over one association: ``[(path, None or the reason it failed)]``.

    Raises :class:`PacsError` when no association is made (nothing was sent)."""
    files = [Path(p) for p in paths]
    if not files:
        return []
    assoc = _associate(dest, calling, _contexts(files), timeout)
    out: list[tuple[Path, str | None]] = []
    try:
        for p in files:
            try:
                status = assoc.send_c_store(dcmread(p))
            except Exception as e:  # noqa: BLE001 - no accepted context, bad file
                out.append((p, str(e).splitlines()[0] if str(e) else type(e).__name__))
                continue
            code = int(status.Status) if status and "Status" in status else -1
            if code == 0 or 0xB000 <= code <= 0xBFFF:  # success, or stored with a warning
                out.append((p, None))
            elif code == -1:
                out.append((p, "no answer to the C-STORE"))
            else:
                out.append((p, f"refused with status 0x{code:04X}"))
            if not assoc.is_established:
                break
    finally:
        if assoc.is_established:
            assoc.release()
    out += [(p, "the association ended early") for p in files[len(out) :]]
    return out


def find_worklist(
    dest: Destination,
    calling: str = DEFAULT_CALLING_AET,
    *,
    patient_name: str = "",
    modality: str = "US",
    date: str = "",
    timeout: float = 10.0,
) -> list[Identity]:
    """C-FIND on the Modality Worklist: the scheduled exams as :class:`Identity` entries."""
    # pynetdicom makes its SOP class names at import time: not visible to type checkers
    from pynetdicom.sop_class import ModalityWorklistInformationFind  # type: ignore[attr-defined]

    q = Dataset()
    q.PatientName = patient_name or "*"
    q.PatientID = ""
    q.PatientBirthDate = ""
    q.PatientSex = ""
    q.AccessionNumber = ""
    q.ReferringPhysicianName = ""
    q.StudyInstanceUID = ""
    q.RequestedProcedureID = ""
    q.RequestedProcedureDescription = ""
    sps = Dataset()
    sps.Modality = modality
    sps.ScheduledStationAETitle = ""
    sps.ScheduledProcedureStepStartDate = date
    sps.ScheduledProcedureStepDescription = ""
    q.ScheduledProcedureStepSequence = [sps]
    assoc = _associate(dest, calling, [(ModalityWorklistInformationFind,)], timeout)
    out: list[Identity] = []
    try:
        for status, ident in assoc.send_c_find(q, ModalityWorklistInformationFind):
            if status is None:
                raise PacsError(f"no answer from {dest} to the worklist query")
            code = int(status.Status)
            if code in (0xFF00, 0xFF01) and ident is not None:
                out.append(
                    Identity(
                        patient_name=str(ident.get("PatientName", "") or ""),
                        patient_id=str(ident.get("PatientID", "") or ""),
                        birth_date=str(ident.get("PatientBirthDate", "") or ""),
                        sex=str(ident.get("PatientSex", "") or ""),
                        accession=str(ident.get("AccessionNumber", "") or ""),
                        referring_physician=str(ident.get("ReferringPhysicianName", "") or ""),
                        study_description=str(
                            ident.get("RequestedProcedureDescription", "") or "eFAST"
                        ),
                        study_uid=str(ident.get("StudyInstanceUID", "") or ""),
                        requested_procedure_id=str(ident.get("RequestedProcedureID", "") or ""),
                    )
                )
            elif code not in (0x0000, 0xFF00, 0xFF01):
                raise PacsError(f"{dest} refused the worklist query (status 0x{code:04X})")
    finally:
        if assoc.is_established:
            assoc.release()
    return out


class SendQueue:
    """Objects waiting for a PACS, kept on disk: ``<folder>/<id>.dcm`` with ``<id>.json``
    (destination, calling AE title, attempts, last error). Survives a restart; an object
    leaves the queue only once the PACS has stored it."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()  # one flush at a time (the worker, the CLI, a test)

    def enqueue(
        self, paths: Iterable[str | Path], dest: Destination, calling: str = DEFAULT_CALLING_AET
    ) -> list[Path]:
        """Copy the files in (each checked to be DICOM first); returns the queued copies."""
        files = [Path(p) for p in paths]
        for p in files:
            read_dicom(p)
        check_aet(calling)
        self.folder.mkdir(parents=True, exist_ok=True)
        out = []
        for p in files:
            key = f"{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:12]}"
            tmp = self.folder / f".{key}.partial"
            shutil.copyfile(p, tmp)
            meta = {"to": str(dest), "calling": calling, "name": p.name, "attempts": 0}
            (self.folder / f"{key}.json").write_text(json.dumps(meta))
            os.replace(tmp, self.folder / f"{key}.dcm")
            out.append(self.folder / f"{key}.dcm")
        return out

    def pending(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.glob("*.dcm") if p.with_suffix(".json").exists())

    def __len__(self) -> int:
        return len(self.pending())

    def _meta(self, p: Path) -> dict:
        try:
            return json.loads(p.with_suffix(".json").read_text())
        except (OSError, ValueError):
            return {}

    def flush(self, to: Destination | None = None) -> tuple[int, str | None]:
        """Try to send everything waiting (to ``to`` instead of each entry's own destination
        when given). Returns (objects stored, the last error or None)."""
        with self._lock:
            groups: dict[tuple[str, str], list[Path]] = {}
            for p in self.pending():
                m = self._meta(p)
                dest = str(to) if to else m.get("to", "")
                groups.setdefault((dest, m.get("calling", DEFAULT_CALLING_AET)), []).append(p)
            sent, error = 0, None
            for (dest_text, calling), paths in groups.items():
                try:
                    results = store(paths, parse_destination(dest_text), calling)
                except (PacsError, ValueError) as e:
                    error = str(e)
                    self._note(paths, error)
                    continue
                for p, why in results:
                    if why is None:
                        p.unlink(missing_ok=True)
                        p.with_suffix(".json").unlink(missing_ok=True)
                        sent += 1
                    else:
                        error = f"{self._meta(p).get('name', p.name)}: {why}"
                        self._note([p], why)
            return sent, error

    def _note(self, paths: list[Path], error: str) -> None:
        for p in paths:
            m = self._meta(p)
            m["attempts"] = int(m.get("attempts", 0)) + 1
            m["last_error"] = error
            try:
                p.with_suffix(".json").write_text(json.dumps(m))
            except OSError:
                pass


class SendWorker:
    """Flushes a :class:`SendQueue` on its own thread while anything waits: at once after
    :meth:`wake`, then again after 2, 4, 8 … up to ``max_wait`` seconds while the PACS is
    down. ``on_change(waiting, sent, error)`` is called from the worker thread."""

    def __init__(
        self,
        queue: SendQueue,
        on_change: Callable[[int, int, str | None], None] | None = None,
        max_wait: float = 30.0,
    ) -> None:
        self.queue = queue
        self.on_change = on_change
        self.max_wait = max_wait
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = spawn(self._run, name="sonolive-pacs-send")

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        wait = 2.0
        while not self._stop.is_set():
            if not self.queue.pending():
                self._wake.wait()
                self._wake.clear()
                continue
            try:
                sent, error = self.queue.flush()
            except Exception as e:  # noqa: BLE001 - a broken file must not end the worker
                sent, error = 0, str(e).splitlines()[0] if str(e) else type(e).__name__
            if self.on_change is not None:
                self.on_change(len(self.queue.pending()), sent, error)
            if error is None:
                wait = 2.0
                continue
            self._wake.wait(wait)
            self._wake.clear()
            wait = min(self.max_wait, wait * 2)
