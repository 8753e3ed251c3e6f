"""Importing a date range of settlements against the sandbox's Reports API: the check counts
what is new without posting anything, the import posts exactly the new ones, and overlapping
or repeated ranges never make a second document in Xero."""

from __future__ import annotations

import gzip
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as day_start

import pytest
from django.utils import timezone

from connectors import limits
from sandbox.amazon.models import Report, Seller
from settlements import history, pull, services
from settlements.models import Settlement, SettlementFile
from settlements.pull import PullError
from sync.models import LedgerEntry, Run, RunStatus
from sync.push import push_batch
from tests.sandbox.amazon_support import EU_SELLER, authorize, seed
from tests.settlements.flow import (
    assert_settlement_in_xero,
    post_everything,
    seller_link,
    xero_documents,
)
from tests.settlements.support import mapping


def _connected(sandbox_url: str, **kwargs):
    link = seller_link(sandbox_url, **kwargs)
    seed(orders=120)
    tokens = authorize(sandbox_url, seller=EU_SELLER)
    account = link.seller_account
    account.selling_partner_id = EU_SELLER
    account.token = {"refresh_token": tokens["refresh_token"]}
    account.save()
    return link


def _days(first: int, last: int = 0) -> tuple[datetime, datetime]:
    """[today - first 00:00, today - last + 1 day 00:00) in UTC, as the page's form makes it."""
    today = timezone.now().date()
    start = datetime.combine(today - timedelta(days=first), day_start(), tzinfo=UTC)
    end = datetime.combine(today - timedelta(days=last - 1), day_start(), tzinfo=UTC)
    return start, end


def drive(run: Run, *, deadline: float = 180.0) -> Run:
    """Take the run's steps here, as the task would, pushing as the workers would."""
    step = int(run.checkpoint.get("step", 0))
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        outcome = pull.pull_step(run_id=run.pk, step=step)
        for kind in ("invoice", "bill", "payment"):
            if LedgerEntry.objects.filter(link_id=run.link_id, kind=kind, status="pending"):
                push_batch(link_id=run.link_id, kind=kind)
        if not outcome.more:
            run.refresh_from_db()
            return run
        step = outcome.step
        time.sleep(min(outcome.wait, 1.0))
    raise AssertionError(f"run {run.pk} did not finish: {run.checkpoint}")


def _expected(start: datetime, end: datetime) -> dict[str, bool]:
    """The sandbox's settlements that ended in the range and whose report Amazon still lists:
    settlement id → final (its deposit plus the grace has passed)."""
    now = timezone.now()
    reports = Report.objects.filter(
        seller=Seller.objects.get(selling_partner_id=EU_SELLER),
        settlement__isnull=False,
        created_time__gte=now - timedelta(days=90),
        processing_end__lte=now,
        data_end__gte=start,
        data_end__lt=end,
    ).select_related("settlement")
    return {
        r.settlement.settlement_id: now
        >= services.final_after(end=r.settlement.end, deposit_date=r.settlement.deposit_date)
        for r in reports
    }


def test_a_check_counts_without_posting_and_the_import_posts_exactly_the_new_ones(
    sandbox_url: str,
) -> None:
    link = _connected(sandbox_url)
    start, end = _days(30)
    expected = _expected(start, end)
    assert expected and any(expected.values())

    check = drive(history.check_start(link=link, start=start, end=end))
    assert check.status == RunStatus.DONE, check.error
    summary = check.checkpoint["summary"]
    rows = {r["settlement_id"]: r for r in summary["rows"]}
    assert set(rows) == set(expected)
    new = sorted(sid for sid, final in expected.items() if final)
    waiting = sorted(sid for sid, final in expected.items() if not final)
    assert sorted(s for s, r in rows.items() if r["status"] == "new") == new
    assert sorted(s for s, r in rows.items() if r["status"] == "waiting") == waiting
    assert (summary["settlements"], summary["posted"], summary["new"]) == (
        len(expected),
        0,
        len(new),
    )
    # Nothing became a settlement or a ledger row; the reports are kept, unread.
    assert not Settlement.objects.filter(link=link).exists()
    assert not LedgerEntry.objects.filter(link=link).exists()
    kept = SettlementFile.objects.filter(link=link)
    assert kept.count() == check.pulled and not kept.exclude(settlement_id="").exists()
    sentence = history.count_sentence(summary)
    assert sentence.startswith(
        f"{len(expected)} settlements in this range: 0 already posted, {len(new)} new"
    )

    run = drive(history.import_start(link=link, preview=check))
    assert run.status == RunStatus.DONE, run.error
    assert (run.total, run.posted, run.skipped, run.held, run.failed) == (
        len(new),
        len(new),
        0,
        0,
        0,
    )
    assert history.run_progress(run)["percent"] == 100
    assert set(
        Settlement.objects.filter(link=link, state=Settlement.State.BUILT).values_list(
            "settlement_id", flat=True
        )
    ) == set(new)
    for sid in waiting:  # kept, and posted by the schedule once final
        assert Settlement.objects.get(link=link, settlement_id=sid).state == "waiting"
    assert services.settings_for(link).sync_enabled
    post_everything(link)  # the audit CSVs, as the attachment task would
    for sid in new:
        assert_settlement_in_xero(link, Settlement.objects.get(link=link, settlement_id=sid))
    assert LedgerEntry.objects.filter(link=link, run=run).count() == 2 * len(new)


def test_overlapping_and_repeated_ranges_never_post_twice(sandbox_url: str) -> None:
    link = _connected(sandbox_url)
    recent = drive(history.check_start(link=link, start=_days(30)[0], end=_days(30)[1]))
    first = drive(history.import_start(link=link, preview=recent))
    assert first.status == RunStatus.DONE
    posted_first = first.posted
    documents = xero_documents(link).count()
    assert documents == posted_first

    start, end = _days(60)
    wider = drive(history.check_start(link=link, start=start, end=end))
    summary = wider.checkpoint["summary"]
    expected = _expected(start, end)
    assert summary["posted"] == posted_first
    assert summary["new"] == len([s for s, final in expected.items() if final]) - posted_first
    assert summary["new"] > 0
    second = drive(history.import_start(link=link, preview=wider))
    assert second.status == RunStatus.DONE, second.error
    assert second.posted == summary["new"] and second.skipped == 0
    assert xero_documents(link).count() == documents + summary["new"]

    # The same range once more: everything is already posted; an import is refused.
    again = drive(history.check_start(link=link, start=start, end=end))
    assert again.checkpoint["summary"]["new"] == 0
    assert again.checkpoint["summary"]["posted"] == posted_first + summary["new"]
    with pytest.raises(PullError, match="Nothing in this range is new"):
        history.import_start(link=link, preview=again)
    # An older check imported late finds its settlements in the ledger: skipped, not posted.
    late = drive(history.import_start(link=link, preview=wider))
    assert late.status == RunStatus.DONE
    assert (late.posted, late.skipped) == (0, summary["new"])
    numbers = Counter(xero_documents(link).values_list("number", flat=True))
    assert set(numbers.values()) == {1}, numbers
    assert len(numbers) == posted_first + summary["new"]


def test_the_scheduled_pull_reads_what_a_check_kept_and_waits_for_a_running_check(
    sandbox_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = _connected(sandbox_url)
    start, end = _days(30)
    check = history.check_start(link=link, start=start, end=end)
    with pytest.raises(PullError, match="A check or import of a date range is running"):
        pull.pull_start(link=link)
    with pytest.raises(PullError, match="a check of a date range"):
        history.check_start(link=link, start=start, end=end)
    check = drive(check)
    kept = {f.report_id: f.pk for f in SettlementFile.objects.filter(link=link)}
    assert kept

    calls: list[str] = []
    real = pull.report_fetch

    def counted(account, report):
        calls.append(report["reportId"])
        return real(account, report)

    monkeypatch.setattr(pull, "report_fetch", counted)
    scheduled = pull.pull_start(link=link)
    step = 0
    while True:
        outcome = pull.pull_step(run_id=scheduled.pk, step=step)
        if not outcome.more:
            break
        step = outcome.step
        time.sleep(min(outcome.wait, 1.0))
    scheduled.refresh_from_db()
    assert scheduled.status == RunStatus.DONE, scheduled.error
    assert not set(calls) & set(kept)  # read from the kept copies, not downloaded again
    for report_id, pk in kept.items():
        file = SettlementFile.objects.get(link=link, report_id=report_id)
        assert file.pk == pk and file.settlement_id
        assert Settlement.objects.filter(link=link, settlement_id=file.settlement_id).exists()


def test_the_check_waits_for_the_limiter_and_a_duplicate_step_does_nothing(
    sandbox_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = _connected(sandbox_url)
    start, end = _days(30)
    run = history.check_start(link=link, start=start, end=end)
    monkeypatch.setattr(limits, "sp_wait", lambda seller, operation: 42.0)
    outcome = pull.pull_step(run_id=run.pk, step=0)
    assert outcome.more and outcome.wait == 42.0 and outcome.step == 0
    monkeypatch.undo()
    assert pull.pull_step(run_id=run.pk, step=0).step == 1
    stale = pull.pull_step(run_id=run.pk, step=0)
    assert not stale.more and stale.note == "stale step"
    run.refresh_from_db()
    assert run.checkpoint["phase"] == "read" and run.checkpoint["pages"] == 1


def test_a_range_beyond_amazons_90_days_or_backwards_is_refused_with_what_to_do(
    sandbox_url: str,
) -> None:
    link = _connected(sandbox_url)
    start, end = _days(100)
    with pytest.raises(PullError, match=r"keeps settlement reports for 90 days.*upload older"):
        history.check_start(link=link, start=start, end=end)
    with pytest.raises(PullError, match="first day must be before the last day"):
        history.check_start(link=link, start=end, end=start)
    assert not Run.objects.filter(link=link).exists()


def test_a_damaged_report_and_an_incomplete_mapping_are_shown_not_hidden(
    sandbox_url: str,
) -> None:
    link = _connected(sandbox_url, mapped=mapping(omit=("seller:fees:commission",)))
    start, end = _days(30)
    expected = _expected(start, end)
    reports = Report.objects.filter(
        seller__selling_partner_id=EU_SELLER,
        settlement__settlement_id__in=[s for s, final in expected.items() if final],
    ).select_related("document", "settlement")
    copies = Counter(r.settlement.settlement_id for r in reports)
    # A settlement Amazon issued once: with its only report damaged, nothing of it is readable.
    damaged = next(r for r in reports if copies[r.settlement.settlement_id] == 1)
    document = damaged.document
    text = gzip.decompress(bytes(document.content))
    document.content = gzip.compress(text[: len(text) // 2])
    document.save()

    check = drive(history.check_start(link=link, start=start, end=end))
    summary = check.checkpoint["summary"]
    (refused,) = summary["refused"]
    assert refused["reportId"] == damaged.report_id and "Line " in refused["error"]
    kept = SettlementFile.objects.get(link=link, report_id=damaged.report_id)
    assert kept.error == refused["error"] and not kept.settlement_id
    assert damaged.settlement.settlement_id not in {r["settlement_id"] for r in summary["rows"]}
    new = summary["new"]
    assert new == sum(expected.values()) - 1

    run = drive(history.import_start(link=link, preview=check))
    assert run.status == RunStatus.DONE
    # Every settlement has referral fees, which are not mapped: all wait, none is posted.
    assert (run.posted, run.held, run.failed) == (0, new, 0)
    assert not xero_documents(link).exists()
    held = Settlement.objects.filter(link=link, state=Settlement.State.HELD)
    assert held.count() == new
    assert "'Referral fees (commission)' has no Xero account yet" in held.first().held_reason
    again = drive(history.check_start(link=link, start=start, end=end))
    rows = again.checkpoint["summary"]["rows"]
    assert again.checkpoint["summary"]["held"] == new and again.checkpoint["summary"]["new"] == 0
    assert all("has no Xero account yet" in r["note"] for r in rows if r["status"] == "held")
    assert "held" in history.count_sentence(again.checkpoint["summary"])
