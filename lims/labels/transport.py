"""Getting bytes to a printer: raw TCP for ZPL, the server's print command for PDF.

Zebra printers take ZPL on a raw TCP port, 9100 by default ("raw port", ZPL II Programming
Guide and Zebra's network print server manuals); a laser printer is reached through this
server's print queue (CUPS: `lp -d QUEUE`, the file on standard input).
"""

from __future__ import annotations

import shlex
import socket
import subprocess

from lims.errors import LimsError


class PrinterUnavailable(LimsError):
    """The printer or its queue did not take the job; nothing was recorded."""

    status, slug, title = 502, "printer-unavailable", "The printer did not take the job"


def send_raw(name: str, host: str, port: int, data: bytes, *, timeout_s: float) -> None:
    """Send `data` to host:port and close; every failure names the printer and the address."""
    where = f"printer {name} at {host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as conn:
            conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
    except TimeoutError as err:
        raise PrinterUnavailable(
            f"{where} did not answer within {timeout_s:g} s; nothing was printed"
        ) from err
    except ConnectionRefusedError as err:
        raise PrinterUnavailable(
            f"{where} refused the connection: is it switched on, and is {port} its raw port?"
        ) from err
    except (OSError, UnicodeError) as err:  # UnicodeError: a name the IDNA codec refuses
        reason = getattr(err, "strerror", None) or err
        raise PrinterUnavailable(
            f"{where} could not be reached ({reason}); nothing was printed"
        ) from err


def send_to_queue(name: str, queue: str, data: bytes, *, command: str, timeout_s: float) -> None:
    """Run the print command (`{queue}` filled in) with `data` on its standard input."""
    args = [part.replace("{queue}", queue) for part in shlex.split(command)]
    where = f"printer {name} (queue {queue})"
    try:
        done = subprocess.run(args, input=data, capture_output=True, timeout=timeout_s, check=False)
    except FileNotFoundError as err:
        raise PrinterUnavailable(
            f"{where}: the print command {args[0]!r} is not installed on this server"
        ) from err
    except subprocess.TimeoutExpired as err:
        raise PrinterUnavailable(
            f"{where}: {args[0]} did not finish within {timeout_s:g} s"
        ) from err
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()[:300]
        raise PrinterUnavailable(
            f"{where}: {args[0]} refused the job (exit {done.returncode}): {message}"
        )
