"""The 実施報告's words (usecases/report.py and its page): the CSV's headings and its other figures."""

from __future__ import annotations

from chalicelib.text.i18n import N_

# Its CSV's headings (category first, the states between) and its other figures.
REPORT_COLUMNS = (
    N_("参加区分"),
    N_("オンライン参加"),
    N_("会場の参加予定"),
    N_("来場（受付済み）"),
    N_("来なかった方"),
    N_("出席率（%）"),
)
REPORT_TOTAL = N_("合計")
REPORT_CAPACITY = N_("定員")
REPORT_WAITING_PEAK = N_("キャンセル待ちの最大人数")
REPORT_RECONFIRMATION = {
    "reconfirmed": N_("出欠の再確認：参加しますと回答"),
    "not_yet": N_("出欠の再確認：回答なし"),
    "to_call": N_("出欠の再確認：電話などで確かめる方"),
    "declined": N_("出欠の再確認：行けなくなりましたと回答"),
    "released": N_("出欠の再確認：回答がなくお譲りした席"),
    "taken_back": N_("出欠の再確認：お譲りの後に取り戻した方"),
}
REPORT_SURVEY = N_("アンケート「{label}」の平均（5段階・回答{answers}件）")
