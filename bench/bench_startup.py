"""Cold start: seconds from launching ``vlm-studio`` to a painted main window, against a bare PySide6 window.

Runs under Xvfb when ``xvfb-run`` exists (a real X window), else offscreen. Prints the median of a few launches.
Target: < 1.5 s.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BARE = (
    "import sys, time\nfrom PySide6.QtWidgets import QApplication, QMainWindow\n"
    "app = QApplication(sys.argv[:1]); w = QMainWindow(); w.resize(1200, 800); w.show(); app.processEvents()\n"
    "print('startup_seconds=0', flush=True)\n"
)


def launch(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                               start_new_session=True)
    for line in process.stdout:
        if line.startswith("startup_seconds="):
            elapsed = time.perf_counter() - started
            break
    else:
        raise RuntimeError(f"{command} never painted a window")
    os.killpg(process.pid, signal.SIGKILL)  # xvfb-run, Xvfb and the app together
    process.wait()
    return elapsed


def main(runs: int = 5) -> None:
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=f"{home}/config", XDG_DATA_HOME=f"{home}/data")
        prefix: list[str] = []
        if shutil.which("xvfb-run"):
            prefix = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24"]
            env["QT_QPA_PLATFORM"] = "xcb"
        else:
            env["QT_QPA_PLATFORM"] = "offscreen"
        app = [*prefix, sys.executable, "-m", "studio", "--print-startup-time"]
        bare = [*prefix, sys.executable, "-c", BARE]
        app_times = [launch(app, env) for _ in range(runs)]
        bare_times = [launch(bare, env) for _ in range(runs)]
    app_s, bare_s = statistics.median(app_times), statistics.median(bare_times)
    print(f"platform: {env['QT_QPA_PLATFORM']}")
    print(f"bare PySide6 window: {bare_s:.2f} s (median of {runs})")
    print(f"vlm-studio window:   {app_s:.2f} s (median of {runs}); ratio {app_s / bare_s:.2f}x; target < 1.5 s")


if __name__ == "__main__":
    main()
