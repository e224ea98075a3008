"""Start the Qt application (the only place that creates a QApplication)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QTimer, QTranslator
from PySide6.QtWidgets import QApplication

TRANSLATIONS = Path(__file__).resolve().parent.parent / "resources" / "translations"


def install_translator(app: QApplication, lang: str | None) -> QTranslator | None:
    """Load ``sonolive_<lang>.qm`` (e.g. zh_TW) if present; English is built in."""
    lang = lang or QLocale.system().name()
    tr = QTranslator(app)
    if tr.load(f"sonolive_{lang}", str(TRANSLATIONS)):
        app.installTranslator(tr)
        return tr
    return None


def install_qt_translator(app: QApplication, lang: str) -> QTranslator | None:
    """Qt's own words in ``lang`` (OK/Cancel, Yes/No, the file dialogs): ``qtbase_<lang>.qm``,
    which PySide6 ships; None when it has none for that language."""
    tr = QTranslator(app)
    if tr.load(f"qtbase_{lang}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(tr)
        return tr
    return None


def _quit_on_ctrl_c(app: QApplication, win) -> None:
    """Ctrl+C (SIGINT) or SIGTERM in the terminal closes the window as its close button does,
    so the workers stop and the process exits 0. Python runs a signal handler only between
    bytecodes, and Qt's event loop runs none while idle: a light timer lets it in."""
    import signal

    def close(*_: object) -> None:
        QTimer.singleShot(0, lambda: (win.close(), app.quit()))

    signal.signal(signal.SIGINT, close)
    signal.signal(signal.SIGTERM, close)
    wake = QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(200)


def run_gui(args: argparse.Namespace) -> int:
    from ..inference.torch_device import configure_cpu_threads
    from .main_window import MainWindow
    from .shutdown import join_workers, running_idents

    host = running_idents()

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("SonoLive")
    app.setOrganizationName("SonoLive")
    from .fonts import missing_font_message

    lang = args.lang or QLocale.system().name()
    no_font = missing_font_message(lang)  # boxes instead of text: stay in English
    if no_font is None and install_translator(app, lang) is not None:
        install_qt_translator(app, lang)
    configure_cpu_threads()
    model = None if args.model in (None, "", "none") else args.model
    win = MainWindow(
        source=args.source,
        model=model,
        device=args.device,
        mode=args.mode,
        backend=args.backend,
        accel=args.accel,
        trust_code=args.trust_code,
    )
    win.show()
    _quit_on_ctrl_c(app, win)
    if no_font:
        win.show_banner(no_font)  # also printed on the terminal
    if args.quit_after:

        def finish() -> None:
            if args.screenshot:
                win.grab().save(args.screenshot)
            win.close()
            app.quit()

        QTimer.singleShot(int(args.quit_after * 1000), finish)
    rc = app.exec()
    win.close()  # stops the pipeline, CAM, review and device workers if not yet done
    join_workers(exclude=host)  # while the window's objects still exist for late signals
    return rc
