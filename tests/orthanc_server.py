"""A real PACS for the tests: Orthanc (Debian package ``orthanc``) on free 127.0.0.1 ports,
with its configuration, storage and worklists in a temporary folder.

The ``orthanc`` fixture starts it, waits until its REST API answers, and stops it after the
test; tests read the stored instances back through the REST API (urllib). Without the
``Orthanc`` binary the tests that use it are skipped and say why (``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

AET = "ORTHANC"
WORKLIST_PLUGIN = Path("/usr/share/orthanc/plugins/libModalityWorklists.so")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Orthanc:
    def __init__(self, root: Path) -> None:
        self.binary = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
        self.root = root
        self.dicom_port = free_port()
        self.http_port = free_port()
        self.worklists = root / "worklists"
        self.worklists.mkdir(parents=True, exist_ok=True)
        config = {
            "Name": "SonoLive test PACS",
            "StorageDirectory": str(root / "storage"),
            "IndexDirectory": str(root / "index"),
            "DicomAet": AET,
            "DicomPort": self.dicom_port,
            "HttpPort": self.http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomCheckCalledAet": True,  # a wrong called AE title is refused
            "DicomModalities": {"sonolive": ["SONOLIVE", "127.0.0.1", 104]},
            "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowEcho": True,
            "ConcurrentJobs": 1,
            "HttpThreadsCount": 4,
            "Plugins": [str(WORKLIST_PLUGIN)] if WORKLIST_PLUGIN.exists() else [],
            "Worklists": {"Enable": True, "Database": str(self.worklists)},
        }
        self.config = root / "orthanc.json"
        self.config.write_text(json.dumps(config, indent=1))
        self.proc: subprocess.Popen | None = None

    @property
    def destination(self) -> str:
        return f"{AET}@127.0.0.1:{self.dicom_port}"

    def start(self, timeout: float = 60.0) -> None:
        log = open(self.root / "orthanc.log", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [self.binary, str(self.config)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        end = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                tail = (self.root / "orthanc.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"Orthanc exited with {self.proc.returncode}:\n{tail}")
            try:
                self.get("/system")
                return
            except OSError:
                if time.monotonic() > end:
                    raise RuntimeError("Orthanc did not answer on its REST API") from None
                time.sleep(0.1)  # polling a server coming up, not a timed assertion

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def get(self, path: str):
        url = f"http://127.0.0.1:{self.http_port}{path}"
        with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 - local test server
            data = r.read()
        return json.loads(data) if data[:1] in (b"{", b"[") else data

    # what was stored
    def studies(self) -> list[dict]:
        return [self.get(f"/studies/{s}") for s in self.get("/studies")]

    def instances(self) -> list[dict]:
        return self.get("/instances?expand")

    def tags(self, instance_id: str) -> dict:
        return self.get(f"/instances/{instance_id}/simplified-tags")

    def add_worklist(self, name: str, patient_id: str, accession: str) -> str:
        """A scheduled US exam in the modality worklist; returns its Study Instance UID."""
        from pydicom.dataset import Dataset, FileMetaDataset
        from pydicom.uid import ExplicitVRLittleEndian, generate_uid

        wl = Dataset()
        wl.SpecificCharacterSet = "ISO_IR 192"
        wl.PatientName, wl.PatientID = name, patient_id
        wl.PatientBirthDate, wl.PatientSex = "19700203", "F"
        wl.AccessionNumber, wl.StudyInstanceUID = accession, generate_uid()
        wl.RequestedProcedureID, wl.RequestedProcedureDescription = "RP1", "eFAST trauma"
        wl.ReferringPhysicianName = ""
        sps = Dataset()
        sps.Modality, sps.ScheduledStationAETitle = "US", "SONOLIVE"
        sps.ScheduledProcedureStepStartDate = time.strftime("%Y%m%d")
        sps.ScheduledProcedureStepDescription = "eFAST"
        wl.ScheduledProcedureStepSequence = [sps]
        wl.file_meta = FileMetaDataset()
        wl.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        wl.save_as(self.worklists / f"{accession}.wl", enforce_file_format=False)
        return str(wl.StudyInstanceUID)


@pytest.fixture
def orthanc(tmp_path_factory):
    if not (shutil.which("Orthanc") or Path("/usr/sbin/Orthanc").exists()):
        pytest.skip("Orthanc is not installed (apt-get install orthanc; .ci/run does it)")
    server = Orthanc(tmp_path_factory.mktemp("orthanc"))
    server.start()
    yield server
    server.stop()
