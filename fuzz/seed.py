#!/usr/bin/env python3
"""Seeds a fresh server for the schemathesis run (standard library only).

Logs in as the bootstrap admin, registers and logs in a volunteer, and
creates one object of each kind so that operations with ids in their path
reach a real object instead of a 404. Writes, into OUT_DIR:

  tokens.env          ADMIN_TOKEN=... / VOLUNTEER_TOKEN=... (sourced by the script)
  schemathesis.toml   per-operation path parameters pointing at the seeded objects
  seed.json           the seeded ids, for reproducing a failure by hand

Usage: seed.py BASE_URL OUT_DIR ADMIN_PHONE ADMIN_PASSWORD [--with-webhook]
"""

import datetime as dt
import json
import sys
import urllib.error
import urllib.request


def call(base, method, path, token=None, body=None, expect=(200, 201, 202, 204)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    if status not in expect:
        raise SystemExit(f"seed: {method} {path} -> {status}: {raw[:500]!r}")
    return json.loads(raw) if raw else None


def main():
    base, out_dir, admin_phone, admin_password = sys.argv[1:5]
    with_webhook = "--with-webhook" in sys.argv[5:]
    api = base + "/api/v1"
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(microsecond=0)
    iso = lambda t: t.isoformat()

    admin = call(api, "POST", "/auth/login", body={"phone": admin_phone, "password": admin_password})["access_token"]
    vol_phone, vol_password = "13800000001", "fuzz-volunteer-pw"
    registered = call(api, "POST", "/auth/register",
                      body={"phone": vol_phone, "password": vol_password, "name": "志愿者甲"})
    volunteer_id = registered["user"]["id"]
    volunteer = call(api, "POST", "/auth/login", body={"phone": vol_phone, "password": vol_password})["access_token"]
    call(api, "PATCH", "/me", volunteer, {
        "skills": ["home_visit", "companionship"],
        "location": {"lat": 39.91, "lng": 116.40},
        "availability": [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(1, 8)],
    })

    team = call(api, "POST", "/teams", admin, {
        "name": "学雷锋志愿服务队", "kind": "lei_feng",
        "service_categories": ["home_visit", "companionship"],
        "location": {"lat": 39.9, "lng": 116.4}, "service_radius_km": 20, "vetted": True,
    })["id"]
    # The team is vetted: the volunteer's background check is recorded and
    # the membership approved, as a manager would.
    vetted_until = (now + dt.timedelta(days=365)).date().isoformat()
    call(api, "PUT", f"/users/{volunteer_id}/vetting", admin, {"vetted_until": vetted_until})
    call(api, "POST", f"/teams/{team}/members", volunteer, {})
    call(api, "POST", f"/teams/{team}/members/{volunteer_id}/approve", admin, {})
    resident = call(api, "POST", "/residents", admin, {
        "name": "王阿姨", "category": "elderly_alone", "phone": "13800138000",
        "address": "幸福小区 3 号楼 2 单元 101", "location": {"lat": 39.905, "lng": 116.405},
        "id_number": "11010519491231002X", "notes": "行动不便",
    })["id"]

    def new_request(title, assign):
        rid = call(api, "POST", "/requests", admin, {
            "resident_id": resident, "category": "home_visit", "title": title,
            "description": "上门探访", "starts_at": iso(now + dt.timedelta(hours=1)),
            "ends_at": iso(now + dt.timedelta(hours=3)), "volunteers_needed": 5, "urgency": "normal",
        })["id"]
        if assign:
            call(api, "POST", f"/requests/{rid}/assign", admin, {"team_id": team})
        return rid

    request = new_request("探访王阿姨", assign=True)        # read, matches, sign-ups
    to_assign = new_request("待指派的求助", assign=False)   # assign
    to_cancel = new_request("待取消的求助", assign=False)   # cancel
    to_complete = new_request("待完成的求助", assign=True)  # complete
    call(api, "POST", f"/requests/{request}/signups", volunteer)

    # Paper records are entered by a caseworker, so that the admin may
    # approve them (nobody approves a record they entered).
    recorder_phone, recorder_password = "13600000009", "fuzz-recorder-pw"
    call(api, "POST", "/users", admin, {"phone": recorder_phone, "password": recorder_password,
                                        "name": "录入员", "role": "caseworker"})
    recorder = call(api, "POST", "/auth/login",
                    body={"phone": recorder_phone, "password": recorder_password})["access_token"]

    def paper(hours_ago):
        return call(api, "POST", "/service-records", recorder, {
            "volunteer_id": volunteer_id, "request_id": request,
            "started_at": iso(now - dt.timedelta(hours=hours_ago)),
            "ended_at": iso(now - dt.timedelta(hours=hours_ago - 1)), "note": "纸质签到表",
        })["id"]

    pending = paper(3)     # read, history, approve
    to_reject = paper(6)   # reject
    approved = paper(9)    # corrections
    call(api, "POST", f"/service-records/{approved}/approve", admin, {})

    # Regular service: a weekly pairing (its visits are ordinary requests),
    # one to end, and a campaign over the elderly living alone.
    def new_pairing(title):
        return call(api, "POST", "/pairings", admin, {
            "resident_id": resident, "team_id": team, "category": "home_visit",
            "title": title, "description": "量血压，陪聊天", "rrule": "FREQ=WEEKLY;BYDAY=MO",
            "start_time": "09:30", "duration_minutes": 90, "volunteers_needed": 2,
            "starts_on": (now + dt.timedelta(days=1)).date().isoformat(),
        })["id"]

    pairing = new_pairing("每周探访王阿姨")    # read, edit
    to_end = new_pairing("待结束的结对")         # end
    campaign = call(api, "POST", "/campaigns", admin, {
        "name": "重阳节敬老活动", "resident_categories": ["elderly_alone"],
        "category": "home_visit", "title": "重阳节上门送温暖", "description": "送重阳糕",
        "starts_at": iso(now + dt.timedelta(days=2)),
        "ends_at": iso(now + dt.timedelta(days=2, hours=2)), "volunteers_per_request": 2,
    })["id"]

    ids = {
        "pairing": pairing, "pairing_to_end": to_end, "campaign": campaign,
        "admin_token": admin, "volunteer_token": volunteer, "volunteer_id": volunteer_id,
        "team": team, "resident": resident, "request": request, "to_assign": to_assign,
        "to_cancel": to_cancel, "to_complete": to_complete, "record_pending": pending,
        "record_to_reject": to_reject, "record_approved": approved,
    }
    if with_webhook:
        # Only inside the private network namespace: the target is a closed
        # loopback port, so deliveries fail at once and never leave the box.
        hook = call(api, "POST", "/webhooks", admin, {
            "url": "http://127.0.0.1:9/fuzz-hook", "kind": "generic",
            "events": ["request.created", "request.assigned"],
        })["id"]
        event = call(api, "POST", f"/webhooks/{hook}/test", admin)["event_id"]
        ids.update(webhook=hook, webhook_event=event)

    # (method, path, {param: value}); paths as the OpenAPI document names them.
    p = "/api/v1"
    bindings = [
        ("GET", f"{p}/teams/{{id}}", {"id": team}),
        ("GET", f"{p}/teams/{{id}}/members", {"id": team}),
        ("POST", f"{p}/teams/{{id}}/members", {"id": team}),
        ("GET", f"{p}/residents/{{id}}", {"id": resident}),
        ("GET", f"{p}/requests/{{id}}", {"id": request}),
        ("GET", f"{p}/requests/{{id}}/matches", {"id": request}),
        ("POST", f"{p}/requests/{{id}}/assign", {"id": to_assign}),
        ("POST", f"{p}/requests/{{id}}/cancel", {"id": to_cancel}),
        ("POST", f"{p}/requests/{{id}}/complete", {"id": to_complete}),
        ("POST", f"{p}/requests/{{id}}/signups", {"id": request}),
        ("DELETE", f"{p}/requests/{{id}}/signups/me", {"id": request}),
        ("POST", f"{p}/requests/{{id}}/check-in", {"id": request}),
        ("POST", f"{p}/requests/{{id}}/check-out", {"id": request}),
        ("GET", f"{p}/service-records/{{id}}", {"id": pending}),
        ("GET", f"{p}/service-records/{{id}}/history", {"id": pending}),
        ("POST", f"{p}/service-records/{{id}}/approve", {"id": pending}),
        ("POST", f"{p}/service-records/{{id}}/reject", {"id": to_reject}),
        ("POST", f"{p}/service-records/{{id}}/corrections", {"id": approved}),
        ("GET", f"{p}/pairings/{{id}}", {"id": pairing}),
        ("PATCH", f"{p}/pairings/{{id}}", {"id": pairing}),
        ("POST", f"{p}/pairings/{{id}}/end", {"id": to_end}),
        ("GET", f"{p}/campaigns/{{id}}", {"id": campaign}),
        ("POST", f"{p}/campaigns/{{id}}/auto-assign", {"id": campaign}),
    ]
    if with_webhook:
        bindings += [
            ("GET", f"{p}/webhooks/{{id}}/deliveries", {"id": hook}),
            ("POST", f"{p}/webhooks/{{id}}/test", {"id": hook}),
            ("POST", f"{p}/webhooks/{{id}}/deliveries/{{event_id}}/redeliver", {"id": hook, "event_id": event}),
            # DELETE /webhooks/{id} keeps random ids: deleting the seeded
            # webhook would turn the operations above into 404s.
        ]

    with open(f"{out_dir}/schemathesis.toml", "w", encoding="utf-8") as f:
        f.write("# Generated by fuzz/seed.py: path ids of the seeded objects.\n")
        for method, path, params in bindings:
            f.write("\n[[operations]]\n")
            # include-name is "METHOD path"; include-method and include-path in
            # one entry would match either, not both.
            f.write(f'include-name = "{method} {path}"\n')
            f.write("parameters = { " + ", ".join(f'"path.{k}" = "{v}"' for k, v in params.items()) + " }\n")
    with open(f"{out_dir}/tokens.env", "w") as f:
        f.write(f"ADMIN_TOKEN={admin}\nVOLUNTEER_TOKEN={volunteer}\n")
    with open(f"{out_dir}/seed.json", "w", encoding="utf-8") as f:
        json.dump(ids, f, indent=2, ensure_ascii=False)
    print(f"seeded: team {team}, request {request}, records {pending} {to_reject} {approved}"
          + (f", webhook {ids['webhook']}" if with_webhook else ""))


if __name__ == "__main__":
    main()
