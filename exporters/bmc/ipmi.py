"""IPMI over LAN (RMCP+) with python-ipmi: one warm session per BMC, the SDR read once and re-read when
the BMC says it changed, every request bounded by the scrape deadline."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pyipmi
import pyipmi.interfaces
from pyipmi.errors import (
    AuthenticationError,
    CompletionCodeError,
    DecodingError,
    IpmiConnectionError,
    MessageStatusCodeError,
    NotSupportedError,
    RetryError,
)
from pyipmi.helper import get_sdr_data_helper

from ..core import Deadline, Malformed, ScrapeError, get_logger
from . import ipmi_parse as P
from .config import Auth, IpmiTarget
from .model import Psu, Sensor, Snapshot, State

log = get_logger(__name__)

NETFN_CHASSIS, NETFN_SENSOR, NETFN_STORAGE, NETFN_GROUP = 0x00, 0x04, 0x0A, 0x2C
# The first request on a warm session may find it expired; give it at most this long before re-opening.
WARM_PROBE_SECONDS = 1.0
SEL_PER_SCRAPE = 64  # SEL entries read in one scrape (a big SEL is read over several)
_IO_ERRORS = (
    TimeoutError,
    socket.timeout,
    OSError,
    RetryError,
    IpmiConnectionError,
    DecodingError,
    ValueError,
    CompletionCodeError,
    P.CompletionCode,
)


class _Expired(Exception):
    """The deadline passed before a request could be sent."""


class IpmiSource:
    """One BMC over IPMI. `read(deadline)` is safe to call from several scrape threads."""

    def __init__(self, name: str, cfg: IpmiTarget, auth: Auth) -> None:
        self.name, self.cfg, self._auth = name, cfg, auth
        self._lock = threading.Lock()
        self._ipmi: pyipmi.Ipmi | None = None
        self._sdr_stamp: tuple[int, int, int] | None = None
        self._defs: list[P.SensorDef] = []
        self._dcmi = "skip_dcmi" not in cfg.workarounds and cfg.power_sensor is None
        self._requests = 0
        self._sel = _SelState()
        self.sdr_reads = 0  # how often the SDR was read (tests check it is not every scrape)
        self.opens = 0  # sessions opened

    # -- session ------------------------------------------------------------------------------------
    def _open(self, deadline: Deadline) -> pyipmi.Ipmi:
        quirks = {
            "rmcp_ignore_sdu_length": "ignore_sdu_length" in self.cfg.workarounds,
            "rmcp_ignore_rq_seq": "ignore_rq_seq" in self.cfg.workarounds,
        }
        if self.cfg.interface == "lan":  # IPMI 1.5
            intf = pyipmi.interfaces.create_interface(
                "rmcp", keep_alive_interval=0, max_retries=0, quirks_cfg=quirks
            )
        else:
            intf = pyipmi.interfaces.create_interface(
                "rmcpplus",
                cipher_suite=self.cfg.cipher_suite,
                keep_alive_interval=0,
                max_retries=0,
                quirks_cfg=quirks,
            )
        ipmi = pyipmi.create_connection(intf)
        ipmi.target = pyipmi.Target(ipmb_address=0x20)
        ipmi.session.set_session_type_rmcp(self.cfg.host, self.cfg.port)
        ipmi.session.set_auth_type_user(self._auth.user, self._auth.password.reveal())
        ipmi.session.set_priv_level(self.cfg.privilege)
        intf.open()
        try:
            intf.set_timeout(self._timeout(deadline))
            ipmi.session.establish()
        except BaseException:
            intf.close()
            raise
        self.opens += 1
        log.debug("ipmi session opened", target=self.name, host=self.cfg.host, port=self.cfg.port)
        return ipmi

    def _drop(self, deadline: Deadline | None = None) -> None:
        """Forget the session; close it politely if there is time (BMCs have few session slots)."""
        ipmi, self._ipmi = self._ipmi, None
        if ipmi is None:
            return
        try:
            if deadline is not None and deadline.remaining() > 0.05:
                ipmi.interface.set_timeout(min(0.3, deadline.remaining()))
                ipmi.session.close()
        except Exception:  # noqa: BLE001 - the session is being thrown away anyway
            pass
        finally:
            ipmi.interface.close()

    def close(self) -> None:
        # A scrape still running holds the lock until its deadline; do not wait longer than that.
        if not self._lock.acquire(timeout=15):
            return
        try:
            self._drop(Deadline(1.0))
        finally:
            self._lock.release()

    def _timeout(self, deadline: Deadline, cap: float | None = None) -> float:
        t = min(float(self.cfg.timeout), deadline.remaining(), cap if cap is not None else 1e9)
        if t <= 0.001:
            raise _Expired()
        return t

    def _raw(
        self, deadline: Deadline, netfn: int, data: bytes, lun: int = 0, cap: float | None = None
    ) -> bytes:
        assert self._ipmi is not None
        self._ipmi.interface.set_timeout(self._timeout(deadline, cap))
        self._requests += 1
        return bytes(self._ipmi.send_raw(lun, netfn, data))

    # -- one scrape ---------------------------------------------------------------------------------
    def read(self, deadline: Deadline) -> Snapshot:
        if not self._lock.acquire(timeout=deadline.remaining()):
            raise ScrapeError("timeout", "an earlier scrape of this BMC is still running")
        try:
            return self._read_locked(deadline)
        finally:
            self._lock.release()

    def _read_locked(self, deadline: Deadline) -> Snapshot:
        self._requests = 0
        try:
            return self._attempt(deadline)
        except _Expired:
            self._drop()
            raise ScrapeError("timeout", "deadline reached while reading the BMC") from None
        except AuthenticationError as e:
            self._drop()
            raise ScrapeError("auth", f"IPMI login refused ({_msg(e)}); check user and password") from None
        except MessageStatusCodeError as e:
            self._drop()
            raise ScrapeError("auth", f"IPMI session setup refused: {_msg(e)}") from None
        except NotSupportedError as e:
            self._drop()
            raise ScrapeError("connect", f"IPMI: {_msg(e)}") from None
        except (TimeoutError, RetryError) as e:
            self._drop(deadline)
            raise ScrapeError(
                "timeout" if deadline.expired() else "connect",
                f"no answer from {self.cfg.host}:{self.cfg.port} ({type(e).__name__})",
            ) from None
        except (IpmiConnectionError, OSError) as e:
            self._drop()
            raise ScrapeError("connect", f"{self.cfg.host}:{self.cfg.port}: {_msg(e)}") from None
        except (DecodingError, ValueError, CompletionCodeError, P.CompletionCode) as e:
            self._drop(deadline)
            raise Malformed(f"unexpected IPMI answer: {_msg(e)}") from None
        except Exception:
            self._drop()  # start from a fresh session after anything unexpected (reported as internal)
            raise

    def _attempt(self, deadline: Deadline) -> Snapshot:
        if self._ipmi is not None:
            # Warm session: the first request tells whether it is still alive; if not, open a new one.
            try:
                stamp = P.sdr_repository_stamp(
                    self._raw(
                        deadline,
                        NETFN_STORAGE,
                        b"\x20",
                        cap=max(0.05, min(WARM_PROBE_SECONDS, deadline.remaining() / 2)),
                    )
                )
            except _IO_ERRORS as e:
                log.debug("warm ipmi session failed; reopening", target=self.name, err=_msg(e))
                self._drop(deadline)
            else:
                return self._collect(deadline, stamp)
        self._ipmi = self._open(deadline)
        stamp = P.sdr_repository_stamp(self._raw(deadline, NETFN_STORAGE, b"\x20"))
        return self._collect(deadline, stamp)

    def _collect(self, deadline: Deadline, stamp: tuple[int, int, int]) -> Snapshot:
        assert self._ipmi is not None
        w = self.cfg.workarounds
        if stamp != self._sdr_stamp or not self._defs:
            self._load_sdr(deadline)
            self._sdr_stamp = stamp
        sensors: list[Sensor] = []
        psus: list[Psu] = []
        states: list[State] = []
        for d in self._defs if "skip_sensors" not in w else []:
            rsp = self._raw(deadline, NETFN_SENSOR, bytes([0x2D, d.number]), lun=d.lun)
            item = P.to_model(d, P.decode_reading(rsp), "ignore_scanning_disabled" in w)
            if isinstance(item, Sensor):
                sensors.append(item)
            elif isinstance(item, Psu):
                psus.append(item)
            elif isinstance(item, State):
                states.append(item)
        psus = P.psu_watts(self._defs, sensors, psus)
        sel_entries = sel_free = last = None
        by_type: dict[str, int] | None = None
        if "skip_sel" not in w:
            info = self._raw(deadline, NETFN_STORAGE, b"\x40")
            sel_entries, sel_free = P.sel_info(info)
            last, erased = P.sel_stamps(info)
            by_type = self._sel_types(deadline, sel_entries, erased)
        power_on = None
        if "skip_chassis" not in w:
            power_on = P.chassis_power_on(self._raw(deadline, NETFN_CHASSIS, b"\x01"))
        watts = self._system_power(deadline, sensors)
        return Snapshot(
            sensors=tuple(sensors),
            psus=tuple(psus),
            states=tuple(states),
            power_on=power_on,
            system_power_watts=watts,
            sel_entries=sel_entries,
            sel_free_bytes=sel_free,
            sel_by_type=tuple(sorted(by_type.items())) if by_type is not None else (),
            sel_last_timestamp=last,
            health=(("sensors", _worst(sensors, psus, states)),),
            requests=self._requests,
        )

    def _sel_types(self, deadline: Deadline, entries: int, erased: int) -> dict[str, int] | None:
        """SEL entries by sensor type, read incrementally: at most SEL_PER_SCRAPE entries a scrape, from where
        the last scrape stopped; all again after the SEL was cleared. None until every entry was read once
        (a partial count would be a wrong number)."""
        sel = self._sel
        if erased != sel.erased or entries < sel.read:
            sel.__init__()  # type: ignore[misc]  # the SEL was cleared: start over
            sel.erased = erased
        if sel.done and entries > sel.read and sel.last is not None:
            # New entries since: continue after the last one read (its next id was "none" then).
            nxt, _ = P.sel_entry(self._sel_get(deadline, sel.last))
            if nxt != 0xFFFF:
                sel.next, sel.done = nxt, False
        budget = SEL_PER_SCRAPE
        while not sel.done and budget > 0:
            if entries == 0:
                sel.done = True
                break
            budget -= 1
            rsp = self._sel_get(deadline, sel.next)
            if rsp[:1] != b"\x00":
                break  # not there (yet): try again next scrape
            nxt, kind = P.sel_entry(rsp, "assume_system_event" in self.cfg.workarounds)
            sel.counts[kind] = sel.counts.get(kind, 0) + 1
            sel.read += 1
            sel.last, sel.next = sel.next, nxt
            sel.done = nxt == 0xFFFF
        return dict(sel.counts) if sel.done else None

    def _sel_get(self, deadline: Deadline, record_id: int) -> bytes:
        """Get SEL Entry: the whole record (no reservation needed for that)."""
        return self._raw(
            deadline, NETFN_STORAGE, b"\x43\x00\x00" + record_id.to_bytes(2, "little") + b"\x00\xff"
        )

    def _system_power(self, deadline: Deadline, sensors: list[Sensor]) -> float | None:
        if self.cfg.power_sensor is not None:
            return next((s.value for s in sensors if s.name == self.cfg.power_sensor), None)
        if self._dcmi:
            try:
                # A BMC without DCMI may not answer at all: do not let that eat the scrape.
                cap = max(0.05, min(WARM_PROBE_SECONDS, deadline.remaining() / 2))
                return P.dcmi_power_watts(self._raw(deadline, NETFN_GROUP, b"\x02\xdc\x01\x00\x00", cap=cap))
            except (P.CompletionCode, ValueError, TimeoutError, RetryError) as e:
                # Not a DCMI BMC: stop asking (until the next SDR change re-enables it).
                log.debug("no DCMI power reading; not asking again", target=self.name, err=_msg(e))
                self._dcmi = False
        power = [s.value for s in sensors if s.kind == "power" and s.value is not None]
        return power[0] if len(power) == 1 else None

    def _load_sdr(self, deadline: Deadline) -> None:
        assert self._ipmi is not None
        ipmi = self._ipmi
        ipmi.interface.set_timeout(self._timeout(deadline))
        raw = []
        for item in _entries(ipmi, lambda: ipmi.interface.set_timeout(self._timeout(deadline))):
            raw.append(item)
            self._requests += 1

        def skip(msg: str) -> None:
            deadline.skip("bad_sdr", f"{self.name}: {msg}")

        self._defs = P.sensor_defs(P.decode_records(raw, skip), skip, self.cfg.excluded)
        self._dcmi = "skip_dcmi" not in self.cfg.workarounds and self.cfg.power_sensor is None
        self.sdr_reads += 1
        log.debug("ipmi SDR read", target=self.name, records=len(raw), sensors=len(self._defs))


def _entries(ipmi: pyipmi.Ipmi, before_each: Callable[[], None]) -> Iterator[tuple[int, bytes]]:
    """The SDR repository's records as (next record id, bytes), re-arming the deadline before each one;
    decoding is left to ipmi_parse, where one bad record costs only itself."""
    reservation = ipmi.reserve_sdr_repository()
    read_length = ipmi._sdr_read_length  # noqa: SLF001 - python-ipmi's chunk size, kept across records
    get_chunk = ipmi._get_sdr_chunk  # noqa: SLF001 - the raw record reader behind get_repository_sdr
    record_id = 0
    while True:
        before_each()
        next_id, data = get_sdr_data_helper(
            ipmi.reserve_sdr_repository, get_chunk, record_id, reservation, read_length
        )
        yield next_id, bytes(data)
        if next_id == 0xFFFF:
            return
        record_id = next_id


class _SelState:
    """What was read of the SEL so far (see IpmiSource._sel_types)."""

    def __init__(self) -> None:
        self.erased = -2  # the SEL Info erase stamp the counts belong to
        self.counts: dict[str, int] = {}
        self.read = 0
        self.next = 0x0000  # the record to read next (0: the first)
        self.last: int | None = None
        self.done = False


def _worst(sensors: list[Sensor], psus: list[Psu], states: list[State]) -> int:
    h = [s.health for s in sensors if s.health is not None] + [p.health for p in psus if p.health is not None]
    return max([*h, *(s.severity for s in states)], default=0)


def _msg(e: BaseException) -> str:
    return str(e) or type(e).__name__
