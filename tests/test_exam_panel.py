"""The exam panel, driven like a physician on the simulated scanner: the seven eFAST views
recorded (four of them by confirming the model's suggestion), findings given, the report
written and the study stored in a real PACS (Orthanc); and the C-ECHO test button."""

from __future__ import annotations

import json

from orthanc_server import orthanc  # noqa: F401 - the fixture
from PySide6.QtCore import Qt
from sonolive.capture.phantom import PhantomSource

LEFT = Qt.MouseButton.LeftButton


def _window(qtbot, settings, mode="bedside"):
    from sonolive.app.main_window import MainWindow

    win = MainWindow(
        source=PhantomSource(seed=5, size=224, view="ruq", fluid=True),
        model="fast-lite",
        settings=settings,
        device="cpu",
        mode=mode,
        backend="torch",
    )
    qtbot.addWidget(win)
    win.show()
    return win


def test_click_through_an_exam_into_the_pacs(qtbot, settings, orthanc, tmp_path):  # noqa: F811
    settings.setValue("exam/folder", str(tmp_path / "exams"))
    settings.setValue("pacs/destination", orthanc.destination)
    settings.setValue("pacs/queue", str(tmp_path / "queue"))
    win = _window(qtbot, settings)
    exam, panel = win.exam, win.exam.panel
    assert exam.dock.isVisible() and not panel.deidentified.isChecked()  # Bedside: identity
    qtbot.mouseClick(panel.new_button, LEFT)
    assert panel.progress_label.text() == "Views done 0/7"

    # the physician moves the probe to a view; SonoLive proposes it; one click (or Enter)
    for phantom, view, fluid in (
        ("ruq", "ruq", True),
        ("luq", "luq", False),
        ("suprapubic", "pelvis_transverse", False),
        ("suprapubic", "pelvis_sagittal", False),  # the transverse view is done: sagittal next
        ("subxiphoid", "subxiphoid", False),
    ):
        win.set_source(PhantomSource(seed=5, size=224, view=phantom, fluid=fluid))
        qtbot.waitUntil(
            lambda v=view: (
                exam.suggestion is not None
                and exam.suggestion.view == v
                and panel.confirm_button.isEnabled()
                and len(exam.ring.snapshot()[0]) >= 3  # the probe held there a moment
            ),
            timeout=60000,
        )
        if view == "luq":
            win.activateWindow()
            qtbot.keyClick(win, Qt.Key.Key_Return)  # the one-key confirm
        else:
            qtbot.mouseClick(panel.confirm_button, LEFT)
        rec = exam.exam.views[view]
        assert rec.suggestion == view and rec.suggestion_confidence > 0.3
        assert rec.in_distribution is True and len(rec.clip) >= 2
        qtbot.mouseClick(panel.finding_buttons["fluid" if fluid else "no_fluid"], LEFT)
        assert exam.exam.views[view].finding == ("fluid" if fluid else "no_fluid")
        # the suggestion stays apart from the physician's finding
        assert exam.exam.views[view].suggestion == view

    # the lungs: no organ class for them, so no suggestion; the physician picks the view
    for view, finding in (("lung_left", "sliding_present"), ("lung_right", "sliding_absent")):
        assert panel.view_buttons[view].styleSheet().find("e07000") > 0  # missing: outlined
        qtbot.mouseClick(panel.view_buttons[view], LEFT)
        assert not panel.finding_buttons["fluid"].isVisible()
        qtbot.mouseClick(panel.finding_buttons[finding], LEFT)
    assert panel.progress_label.text() == "Views done 7/7"
    assert exam.exam.missing == []

    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    qtbot.mouseClick(panel.patient_name, LEFT)  # the physician clicks into the field
    qtbot.waitUntil(panel.patient_name.hasFocus, timeout=5000)
    qtbot.keyClicks(panel.patient_name, "Doe^Jane")
    assert exam.suggestion is not None  # the subxiphoid view is still on screen
    qtbot.keyClick(panel.patient_name, Qt.Key.Key_Return)  # ends the typing, records nothing
    assert exam.exam.views["subxiphoid"].recorded_s < exam.exam.views["lung_right"].recorded_s
    qtbot.keyClicks(panel.patient_id, "P-42")
    qtbot.mouseClick(panel.send_button, LEFT)
    qtbot.waitUntil(lambda: "All objects are stored" in panel.status.text(), timeout=60000)
    out = exam.last_export
    rec = json.loads(out.record.read_text())
    assert rec["views_done"] == "7/7" and rec["missing"] == []
    assert [v["finding"] for v in rec["views"]] == [
        "fluid",
        "no_fluid",
        "no_fluid",
        "no_fluid",
        "no_fluid",
        "sliding_present",
        "sliding_absent",
    ]
    assert out.report.read_bytes().startswith(b"%PDF")
    studies = orthanc.studies()
    assert len(studies) == 1
    assert studies[0]["PatientMainDicomTags"]["PatientName"] == "Doe^Jane"
    assert studies[0]["MainDicomTags"]["StudyInstanceUID"] == rec["study_instance_uid"]
    inst = orthanc.instances()
    assert len(inst) == len(rec["dicom"]) >= 7 + 7 + 1  # clips, key frames, (masks), report
    frames = 0
    for i in inst:
        tags = orthanc.tags(i["ID"])
        if tags["Modality"] != "DOC":
            frames += int(tags.get("NumberOfFrames", 1))
    assert frames == rec["dicom_frames"] == out.frames
    clip_frames = sum(v["clip_frames"] for v in rec["views"])
    assert frames >= clip_frames + 7
    win.close()


def test_after_finish_no_suggestion_is_left_to_confirm(qtbot, settings, tmp_path):
    """Finish and send ends the exam: the last suggestion is no longer outlined or
    confirmable, so an Enter after it records nothing into a new exam."""
    from sonolive.app.exam.panel import SUGGESTED

    settings.setValue("exam/folder", str(tmp_path / "exams"))
    win = _window(qtbot, settings)
    exam, panel = win.exam, win.exam.panel
    qtbot.mouseClick(panel.new_button, LEFT)
    qtbot.waitUntil(
        lambda: (
            exam.suggestion is not None
            and exam.suggestion.view == "ruq"
            and panel.confirm_button.isEnabled()
            and len(exam.ring.snapshot()[0]) >= 3
        ),
        timeout=60000,
    )
    assert panel.view_buttons["ruq"].styleSheet() == SUGGESTED
    qtbot.mouseClick(panel.confirm_button, LEFT)
    qtbot.mouseClick(panel.finding_buttons["no_fluid"], LEFT)
    qtbot.mouseClick(panel.send_button, LEFT)
    qtbot.waitUntil(lambda: "Report written" in panel.status.text(), timeout=60000)
    assert exam.exam is None
    assert not panel.confirm_button.isEnabled()
    assert all(b.styleSheet() != SUGGESTED for b in panel.view_buttons.values())
    assert panel.suggestion_label.text() == "Press New exam or a view to start"
    n = win.view.frames_shown
    qtbot.waitUntil(lambda: win.view.frames_shown > n + 3, timeout=20000)  # RUQ still shown
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    qtbot.keyClick(win, Qt.Key.Key_Return)
    assert exam.exam is None, "Enter after the exam recorded the old suggestion"
    assert not panel.confirm_button.isEnabled()
    win.close()


def test_echo_button_in_the_pacs_settings(qtbot, settings, orthanc):  # noqa: F811
    win = _window(qtbot, settings, mode="teaching")
    panel = win.exam.panel
    assert panel.deidentified.isChecked() and not panel.patient_name.isEnabled()
    qtbot.mouseClick(panel.settings_button, LEFT)
    dlg = win.exam.dialog
    qtbot.waitUntil(dlg.isVisible)
    qtbot.keyClicks(dlg.destination, orthanc.destination)
    qtbot.mouseClick(dlg.echo_button, LEFT)
    qtbot.waitUntil(lambda: "answered the echo" in dlg.echo_result.text(), timeout=20000)
    dlg.destination.clear()
    qtbot.keyClicks(dlg.destination, orthanc.destination.replace("ORTHANC@", "NOPE@"))
    qtbot.mouseClick(dlg.echo_button, LEFT)
    qtbot.waitUntil(
        lambda: "called AE title not recognised" in dlg.echo_result.text(), timeout=20000
    )
    dlg.destination.clear()
    qtbot.keyClicks(dlg.destination, orthanc.destination)
    qtbot.mouseClick(dlg.button_box.button(dlg.button_box.StandardButton.Ok), LEFT)
    assert not dlg.isVisible()
    assert settings.value("pacs/destination") == orthanc.destination
    # the worklist fills the identity (Bedside's identified mode)
    orthanc.add_worklist("Roe^Ann", "W-5", "ACC-WL")
    qtbot.mouseClick(panel.deidentified, LEFT)
    assert panel.worklist_button.isEnabled()
    qtbot.mouseClick(panel.worklist_button, LEFT)
    qtbot.waitUntil(lambda: panel.worklist_box.count() == 1, timeout=20000)
    assert panel.patient_name.text() == "Roe^Ann" and panel.accession.text() == "ACC-WL"
    assert win.exam.identity().study_uid  # the worklist's study: one study per exam
    win.close()


def test_send_waits_while_the_pacs_is_down(qtbot, settings, orthanc, tmp_path):  # noqa: F811
    """Orthanc stopped: the exam's objects wait in the queue and the panel says why; once it
    is back they arrive without another click."""
    settings.setValue("exam/folder", str(tmp_path / "exams"))
    settings.setValue("pacs/destination", orthanc.destination)
    settings.setValue("pacs/queue", str(tmp_path / "queue"))
    win = _window(qtbot, settings, mode="teaching")
    panel = win.exam.panel
    qtbot.waitUntil(lambda: win.exam.last is not None, timeout=30000)
    orthanc.stop()
    qtbot.mouseClick(panel.view_buttons["lung_right"], LEFT)
    qtbot.mouseClick(panel.finding_buttons["sliding_present"], LEFT)
    qtbot.mouseClick(panel.send_button, LEFT)
    qtbot.waitUntil(lambda: "wait for the PACS" in panel.status.text(), timeout=30000)
    assert "no answer from ORTHANC@127.0.0.1" in panel.status.text()
    n = len(win.exam.last_export.dicom)
    assert len(list((tmp_path / "queue").glob("*.dcm"))) == n
    orthanc.start()
    qtbot.waitUntil(lambda: "All objects are stored" in panel.status.text(), timeout=60000)
    assert len(orthanc.instances()) == n
    tags = orthanc.tags(orthanc.instances()[0]["ID"])
    assert tags.get("PatientName", "") == "" and tags["PatientIdentityRemoved"] == "YES"
    win.close()
