"""Expands an iCalendar file with independent implementations (icalendar and
recurring-ical-events, from PyPI) and prints every occurrence as JSON:
[{"uid": ..., "summary": ..., "start_ms": ..., "end_ms": ..., "transp": ...,
"alarms": n, "alarm_uids": [...], "prodid": ...}], sorted. An all-day start or end is
its date; an alarm's ids are its RFC 9074 UID and Apple's X-WR-ALARMUID.

Usage: expand_ics.py FILE FROM_ISO TO_ISO
"""
import json
import sys
from datetime import date, datetime, timezone

import icalendar
import recurring_ical_events


def millis(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise SystemExit(f"floating time in the calendar: {value}")
        return int(value.timestamp() * 1000)
    if isinstance(value, date):
        # All day: the date itself (the caller compares local midnights).
        return value.isoformat()
    raise SystemExit(f"unexpected DTSTART {value!r}")


def main():
    path, start, end = sys.argv[1:4]
    with open(path, "rb") as f:
        cal = icalendar.Calendar.from_ical(f.read())
    if not cal.walk("VTIMEZONE"):
        raise SystemExit("no VTIMEZONE")
    begin = datetime.fromisoformat(start).replace(tzinfo=timezone.utc)
    finish = datetime.fromisoformat(end).replace(tzinfo=timezone.utc)
    out = []
    for event in recurring_ical_events.of(cal).between(begin, finish):
        alarms = event.walk("VALARM")
        end = event.get("DTEND")
        out.append(
            {
                "uid": str(event.get("UID")),
                "summary": str(event.get("SUMMARY")),
                "start_ms": millis(event.get("DTSTART").dt),
                "end_ms": millis(end.dt) if end is not None else None,
                "transp": str(event.get("TRANSP", "OPAQUE")),
                "alarms": len(alarms),
                "alarm_uids": [
                    [str(a.get("UID")), str(a.get("X-WR-ALARMUID"))] for a in alarms
                ],
                "prodid": str(cal.get("PRODID")),
            }
        )
    out.sort(key=lambda e: (e["uid"], str(e["start_ms"])))
    print(json.dumps(out))


main()
