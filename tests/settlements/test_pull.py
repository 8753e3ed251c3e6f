"""Settlement reports from the sandbox's Reports API: discovered page by page, downloaded,
kept, deduplicated, built and posted; a second pull creates nothing new."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from connectors import limits
from sandbox.amazon.models import Report, Seller
from sandbox.amazon.models import Settlement as AmazonSettlement
from sandbox.amazon.store import FLAT_REPORT, V2_REPORT, settlement_issue_again
from settlements import pull
from settlements.models import Settlement, SettlementFile
from sync.models import Run
from tests.sandbox.amazon_support import EU_SELLER, UK, authorize, seed
from tests.settlements.flow import (
    assert_settlement_in_xero,
    ledger_counts,
    post_everything,
    seller_link,
    xero_documents,
)


def _connected(sandbox_url: str):
    link = seller_link(sandbox_url)
    seed(orders=120)
    tokens = authorize(sandbox_url, seller=EU_SELLER)
    account = link.seller_account
    account.selling_partner_id = EU_SELLER
    account.token = {"refresh_token": tokens["refresh_token"]}
    account.save()
    return link


def _run(link) -> Run:
    """A whole pull, one step at a time, waiting as told (a worker re-queues instead)."""
    run = pull.pull_start(link=link)
    step = int(run.checkpoint["step"])
    end = time.monotonic() + 120
    while time.monotonic() < end:
        outcome = pull.pull_step(run_id=run.pk, step=step)
        if not outcome.more:
            run.refresh_from_db()
            return run
        step = outcome.step
        time.sleep(min(outcome.wait, 2.0))
    raise AssertionError("the pull did not finish")


def _visible_reports(seller: Seller):
    now = timezone.now()
    return Report.objects.filter(
        seller=seller,
        region="eu",
        settlement__isnull=False,
        created_time__gte=now - timedelta(days=90),
        processing_end__lte=now,
    )


def test_a_pull_follows_every_page_keeps_each_report_and_posts_the_settlements(
    sandbox_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = _connected(sandbox_url)
    monkeypatch.setattr(pull, "PAGE_SIZE", 4)  # several pages, several nextTokens
    seller = Seller.objects.get(selling_partner_id=EU_SELLER)
    reports = list(_visible_reports(seller))
    assert {r.report_type for r in reports} == {V2_REPORT, FLAT_REPORT}  # both layouts served
    run = _run(link)
    assert run.status == "done", run.error
    assert run.checkpoint["pages"] > 2 and run.checkpoint["next_token"] is None
    kept = SettlementFile.objects.filter(link=link)
    assert sorted(kept.values_list("report_id", flat=True)) == sorted(r.report_id for r in reports)
    assert not kept.exclude(error="").exists()
    assert {f.report_type for f in kept} == {V2_REPORT, FLAT_REPORT}
    # One settlement per settlement-id; the one Amazon issued twice uses its complete copy.
    settlement_ids = {r.settlement.settlement_id for r in reports}
    assert set(Settlement.objects.filter(link=link).values_list("settlement_id", flat=True)) == (
        settlement_ids
    )
    twice = [
        sid for sid in settlement_ids if sum(r.settlement.settlement_id == sid for r in reports) > 1
    ]
    assert twice, "the sandbox issues one settlement twice"
    for sid in twice:
        ours = Settlement.objects.get(link=link, settlement_id=sid)
        theirs = AmazonSettlement.objects.get(seller=seller, settlement_id=sid)
        assert ours.total_amount == theirs.total_amount
        latest = max(
            (r for r in reports if r.settlement.settlement_id == sid), key=lambda r: r.created_time
        )
        assert ours.file.report_id == latest.report_id
    post_everything(link)
    built = Settlement.objects.filter(link=link, state=Settlement.State.BUILT)
    assert built.count() >= len(settlement_ids) - 2  # the newest may still wait for its deposit
    for settlement in built:
        assert_settlement_in_xero(link, settlement)
    for settlement in Settlement.objects.filter(link=link, state=Settlement.State.WAITING):
        assert settlement.deposit_date > timezone.now() - timedelta(days=1)

    # Pulling again finds nothing new, even when Amazon issues a posted settlement once more.
    before = (ledger_counts(link), xero_documents(link).count(), kept.count())
    posted = built.first()
    again = settlement_issue_again(
        seller=seller,
        settlement_id=posted.settlement_id,
        created_time=timezone.now() - timedelta(minutes=10),
    )
    second = _run(link)
    assert second.status == "done"
    assert kept.all().count() == before[2] + 1  # the new copy is kept ...
    assert SettlementFile.objects.get(link=link, report_id=again.report_id).settlement_id == (
        posted.settlement_id
    )
    post_everything(link)
    assert ledger_counts(link) == before[0]  # ... and posts nothing
    assert xero_documents(link).count() == before[1]


def test_the_pull_waits_for_the_limiter_instead_of_failing(
    sandbox_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = _connected(sandbox_url)
    monkeypatch.setattr(limits, "sp_wait", lambda seller, operation: 42.0)
    run = pull.pull_start(link=link)
    outcome = pull.pull_step(run_id=run.pk, step=0)
    assert outcome.more and outcome.wait == 42.0 and outcome.step == 0
    run.refresh_from_db()
    assert run.status == "running" and run.checkpoint["step"] == 0
    # A duplicate of a step already taken does nothing.
    monkeypatch.undo()
    outcome = pull.pull_step(run_id=run.pk, step=0)
    assert outcome.more and outcome.step == 1
    stale = pull.pull_step(run_id=run.pk, step=0)
    assert not stale.more and stale.note == "stale step"


def test_a_damaged_report_is_refused_and_other_marketplaces_are_not_posted(
    sandbox_url: str,
) -> None:
    link = _connected(sandbox_url)
    account = link.seller_account
    account.marketplace_ids = [UK]  # the user syncs Amazon.co.uk only
    account.save()
    seller = Seller.objects.get(selling_partner_id=EU_SELLER)
    damaged = _visible_reports(seller).filter(report_type=FLAT_REPORT).first()
    document = damaged.document
    text = bytes(document.content)
    document.content = text[: len(text) // 2]  # the older layout is not compressed
    document.save()
    run = _run(link)
    assert run.status == "done"
    assert f"report {damaged.report_id}: Line " in run.error
    kept = SettlementFile.objects.get(link=link, report_id=damaged.report_id)
    assert "columns where the header has" in kept.error
    assert not Settlement.objects.filter(
        link=link, settlement_id=damaged.settlement.settlement_id
    ).exists()
    assert run.failed == 1 and run.progress == 100
    german = Settlement.objects.filter(link=link, marketplace="Amazon.de")
    assert german.exists()
    assert set(german.values_list("state", flat=True)) == {Settlement.State.IGNORED}
    assert "Amazon.de is not among the marketplaces you sync" in german.first().held_reason
    post_everything(link)
    posted = {
        s.marketplace for s in Settlement.objects.filter(link=link, state=Settlement.State.BUILT)
    }
    assert posted == {"Amazon.co.uk"}
    for invoice in xero_documents(link):
        assert invoice.currency_code == "GBP"
