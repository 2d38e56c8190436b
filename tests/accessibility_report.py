"""The JIS X 8341-3:2016 test report (docs/accessibility.ja.md), made from the tests that check each criterion.

`make accessibility-report` writes it; tests/test_accessibility_report.py fails when the committed report is
not what this makes, so it always says what the suite checks. Every level A and AA success criterion of
WCAG 2.2 is here, with 4.1.1 (in JIS X 8341-3:2016, which is WCAG 2.0; removed from WCAG 2.2); axe-core's
rules are mapped to criteria by axe's own tags, read from the installed axe-core.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.browser import AXE_RULES

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "accessibility.ja.md"
PERSON_CHECKED = "2026-12-03"  # when a person last looked at what the criteria below marked 人 say


@dataclass(frozen=True)
class Check:
    """One way a criterion is tested: what it is, and where (a test, or what a person looked at)."""

    what: str
    where: str


# The automated checks besides axe-core, each named by the tests that make it.
AXE = Check(
    "axe-core（WCAG 2.2 A/AA と best-practice のすべての規則、0件）", "tests/test_browser.py の assert_accessible"
)
VNU = Check("W3C Nu HTML Checker（エラー0件）", "tests/test_html_valid.py")
KEYBOARD = Check(
    "キーボードだけで申し込み・取り消し・当日登録・受付",
    "tests/test_browser.py の test_registering_with_the_keyboard_alone ほか",
)
NO_SCRIPT = Check(
    "ページはスクリプトを持たない（Content-Security-Policy が禁じ、JavaScript を切っても申し込める）",
    "chalicelib/web/headers.py, tests/test_browser.py の test_everything_works_with_javascript_off",
)
ZOOM = Check("400 %拡大（1280 px の画面で CSS 320 px）で切れず、横スクロールなし", "tests/test_accessibility.py")
TEXT_200 = Check("文字200 %・320 px・200 %拡大で横スクロールなし", "tests/test_browser.py の test_pages_fit_...")
SPACING = Check("1.4.12 の値で文字間・行間を広げても切れない（320 px・1280 px）", "tests/test_accessibility.py")
FORCED = Check("Windows ハイコントラスト（forced colors）で入力欄とボタンの縁が見える", "tests/test_accessibility.py")
FOCUS = Check(
    "Tab で移る先がすべて画面内にあり、覆われず、フォーカスの印がある（320 px・1280 px）", "tests/test_accessibility.py"
)
MOTION = Check("動きを減らす設定で、動くもの（アニメーション・トランジション）がない", "tests/test_accessibility.py")
TREE = Check(
    "アクセシビリティツリー：入力欄すべてに名前、エラーは alert で読み上げられ、各欄の説明にエラー文",
    "tests/test_accessibility.py",
)
LANGUAGE = Check("英語のページとメールに日本語が混ざらない（主催者の原文と本人の入力を除く）", "tests/test_language.py")
FORM_KEPT = Check(
    "エラーや確認のための送り直しでも入力はそのまま残る",
    "tests/test_bots.py, tests/test_browser.py の test_mistakes_are_summarised_focused_and_linked_to_their_fields",
)
CHECKS = (AXE, VNU, KEYBOARD, NO_SCRIPT, ZOOM, TEXT_200, SPACING, FORCED, FOCUS, MOTION, TREE, LANGUAGE, FORM_KEPT)


@dataclass(frozen=True)
class Criterion:
    """A success criterion: its number, JIS's name, level, the WCAG version that added it, and how it is tested."""

    number: str
    name: str
    level: str
    since: str
    checks: tuple[Check, ...] = ()
    person: str = ""  # what a person looked at, for what no test can judge
    applies: bool = True  # False: nothing on the pages it is about (the note says why)


NA_MEDIA = "音声・映像を載せる機能がない（主催者の文章と画像だけ）"
CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "1.1.1",
        "非テキストコンテンツ",
        "A",
        "2.0",
        (AXE,),
        '受付用QRコード（名前に受付番号）。主催者のロゴはサイト名の文字に添える飾り（alt=""）',
    ),
    Criterion("1.2.1", "音声のみ及び映像のみ（収録済）", "A", "2.0", person=NA_MEDIA, applies=False),
    Criterion("1.2.2", "キャプション（収録済）", "A", "2.0", person=NA_MEDIA, applies=False),
    Criterion("1.2.3", "音声解説、又はメディアに対する代替（収録済）", "A", "2.0", person=NA_MEDIA, applies=False),
    Criterion("1.2.4", "キャプション（ライブ）", "AA", "2.0", person=NA_MEDIA, applies=False),
    Criterion("1.2.5", "音声解説（収録済）", "AA", "2.0", person=NA_MEDIA, applies=False),
    Criterion(
        "1.3.1",
        "情報及び関係性",
        "A",
        "2.0",
        (AXE, VNU, TREE),
        "見出しの階層、表の見出し、選択肢のまとまり（fieldset と legend）",
    ),
    Criterion("1.3.2", "意味のある順序", "A", "2.0", (KEYBOARD,), "CSS を外した読み順がフォームの順と同じ"),
    Criterion(
        "1.3.3",
        "感覚的な特徴",
        "A",
        "2.0",
        person="「右の」「緑の」など形や位置や色だけで指す文がない（案内文・エラー文）",
    ),
    Criterion(
        "1.3.4",
        "表示の向き",
        "AA",
        "2.1",
        (ZOOM, TEXT_200),
        "向きを固定する CSS がない（縦長 320 px と横長 1280 px の両方で試験）",
    ),
    Criterion("1.3.5", "入力目的の特定", "AA", "2.1", (AXE,), "氏名・フリガナ・所属・メールアドレスに autocomplete"),
    Criterion("1.4.1", "色の使用", "A", "2.0", (AXE,), "エラーは赤い枠だけでなく、欄の上の文で示す"),
    Criterion("1.4.2", "音声の制御", "A", "2.0", person="音を出すものがない", applies=False),
    Criterion("1.4.3", "コントラスト（最低限）", "AA", "2.0", (AXE,)),
    Criterion("1.4.4", "テキストのサイズ変更", "AA", "2.0", (TEXT_200, ZOOM)),
    Criterion("1.4.5", "文字画像", "AA", "2.0", person="サイトの文章はすべて文字。主催者のロゴだけが画像"),
    Criterion("1.4.10", "リフロー", "AA", "2.1", (ZOOM, TEXT_200)),
    Criterion(
        "1.4.11", "非テキストのコントラスト", "AA", "2.1", (FORCED, FOCUS), "入力欄の枠とフォーカスの印の色（3:1 以上）"
    ),
    Criterion("1.4.12", "テキストの間隔", "AA", "2.1", (SPACING,)),
    Criterion(
        "1.4.13",
        "ホバー又はフォーカスで表示されるコンテンツ",
        "AA",
        "2.1",
        (NO_SCRIPT,),
        "ホバーやフォーカスで現れるものがない",
    ),
    Criterion("2.1.1", "キーボード", "A", "2.0", (KEYBOARD, AXE)),
    Criterion("2.1.2", "キーボードトラップなし", "A", "2.0", (KEYBOARD, FOCUS)),
    Criterion("2.1.4", "文字キーのショートカット", "A", "2.1", (NO_SCRIPT,), "ショートカットキーがない", applies=False),
    Criterion(
        "2.2.1",
        "タイミング調整可能",
        "A",
        "2.0",
        (FORM_KEPT,),
        "主催者のサインイン用リンクは15分で無効（安全のため。いつでも送り直せる）",
    ),
    Criterion("2.2.2", "一時停止、停止、非表示", "A", "2.0", (MOTION, NO_SCRIPT)),
    Criterion("2.3.1", "3回の閃光、又は閾値以下", "A", "2.0", (MOTION,), "点滅するものがない"),
    Criterion("2.4.1", "ブロックスキップ", "A", "2.0", (AXE,), "各ページの先頭に「本文へ移動」"),
    Criterion("2.4.2", "ページタイトル", "A", "2.0", (AXE, VNU), "タイトルがページの内容とイベント名を言う"),
    Criterion("2.4.3", "フォーカス順序", "A", "2.0", (KEYBOARD, FOCUS), "エラーのときは最初にエラーの一覧へ"),
    Criterion("2.4.4", "リンクの目的（コンテキスト内）", "A", "2.0", (AXE,), "「こちら」だけのリンクがない"),
    Criterion(
        "2.4.5",
        "複数の手段",
        "AA",
        "2.0",
        person="イベントはトップページの一覧とイベントのページから。申し込み後のページは手順の一部",
    ),
    Criterion(
        "2.4.6", "見出し及びラベル", "AA", "2.0", (TREE,), "見出しとラベルが内容を言う（フォーム、主催者の各ページ）"
    ),
    Criterion("2.4.7", "フォーカスの可視化", "AA", "2.0", (FOCUS,)),
    Criterion("2.4.11", "フォーカスの非隠蔽（最低限）", "AA", "2.2", (FOCUS,)),
    Criterion(
        "2.5.1", "ポインタのジェスチャ", "A", "2.1", (NO_SCRIPT,), "複数の指や軌跡を使う操作がない", applies=False
    ),
    Criterion(
        "2.5.2", "ポインタのキャンセル", "A", "2.1", (NO_SCRIPT,), "操作はブラウザ標準のクリック（離したときに起きる）"
    ),
    Criterion("2.5.3", "ラベルを含む名前", "A", "2.1", (AXE, TREE), "ボタンとリンクの名前が見える文字と同じ"),
    Criterion("2.5.4", "動きによる起動", "A", "2.1", (NO_SCRIPT,), "端末を振る・傾ける操作がない", applies=False),
    Criterion("2.5.7", "ドラッグ動作", "AA", "2.2", (NO_SCRIPT,), "ドラッグする操作がない", applies=False),
    Criterion("2.5.8", "ターゲットのサイズ（最低限）", "AA", "2.2", (AXE,), "ボタンとチェックボックスは 24 px 以上"),
    Criterion("3.1.1", "ページの言語", "A", "2.0", (AXE, VNU)),
    Criterion(
        "3.1.2",
        "一部分の言語",
        "AA",
        "2.0",
        (LANGUAGE, AXE),
        "言語の切り替えリンク、英語の欄、ほかの言語のページに残る主催者の日本語に lang",
    ),
    Criterion("3.2.1", "フォーカス時", "A", "2.0", (NO_SCRIPT,), "フォーカスで何も変わらない"),
    Criterion("3.2.2", "入力時", "A", "2.0", (NO_SCRIPT,), "入力や選択だけでは送信されない（ボタンで送る）"),
    Criterion(
        "3.2.3",
        "一貫したナビゲーション",
        "AA",
        "2.0",
        person="ヘッダー（サイト名・言語の切り替え）と主催者ページのメニューが全ページで同じ順",
    ),
    Criterion(
        "3.2.4",
        "一貫した識別性",
        "AA",
        "2.0",
        person="同じ働きのボタンとリンクは全ページで同じ名前（申し込む、キャンセルする、保存する）",
    ),
    Criterion(
        "3.2.6", "一貫したヘルプ", "A", "2.2", person="お問い合わせ先は、イベントのページと本人のページのどちらも末尾"
    ),
    Criterion("3.3.1", "エラーの特定", "A", "2.0", (TREE,), "エラーの一覧から各欄へのリンク、各欄の上にエラー文"),
    Criterion("3.3.2", "ラベル又は説明", "A", "2.0", (AXE, TREE), "必須・任意を文字で表示"),
    Criterion(
        "3.3.3", "エラー修正の提案", "AA", "2.0", (TREE,), "メールアドレスの打ち間違いに候補を示す（例：gmial → gmail）"
    ),
    Criterion(
        "3.3.4",
        "エラー回避（法的、金融、データ）",
        "AA",
        "2.0",
        person="申し込みは本人のページで確認・変更・取り消しができる。中止や一斉送信は確認画面を経る",
    ),
    Criterion(
        "3.3.7",
        "冗長な入力",
        "A",
        "2.2",
        (FORM_KEPT,),
        "エラーのあとも入力は残り、申し込み後の変更は登録内容を入れた状態で開く",
    ),
    Criterion(
        "3.3.8",
        "アクセシブルな認証（最低限）",
        "AA",
        "2.2",
        person="パスワードも認知テストもない：主催者はメールで届くリンクでサインイン",
    ),
    Criterion("4.1.1", "構文解析", "A", "2.0（2.2で廃止）", (VNU,)),
    Criterion("4.1.2", "名前（name）・役割（role）及び値（value）", "A", "2.0", (AXE, TREE)),
    Criterion(
        "4.1.3", "ステータスメッセージ", "AA", "2.1", (TREE,), "申し込み結果とエラーの一覧は role=status / alert"
    ),
)


def axe_rules(axe_dir: Path = ROOT / "node_modules" / "axe-core") -> tuple[str, dict[str, list[str]]]:
    """axe-core's version and, for each criterion number, the ids of its rules that test it (by axe's tags)."""
    script = "const a=require(process.argv[1]);console.log(JSON.stringify({v:a.version,r:a.getRules()}))"
    done = subprocess.run(["node", "-e", script, str(axe_dir)], capture_output=True, text=True, check=True)
    data = json.loads(done.stdout)
    by_criterion: dict[str, list[str]] = {}
    for rule in data["r"]:
        if {"experimental", "deprecated"} & set(rule["tags"]) or not set(AXE_RULES) & set(rule["tags"]):
            continue  # not among the rules the tests run (axe.run with these tags only)
        for tag in rule["tags"]:
            digits = tag.removeprefix("wcag")
            if tag.startswith("wcag") and digits.isdigit() and len(digits) >= 3:
                number = f"{digits[0]}.{digits[1]}.{digits[2:]}"
                by_criterion.setdefault(number, []).append(rule["ruleId"])
    return str(data["v"]), {number: sorted(ids) for number, ids in by_criterion.items()}


def _result(criterion: Criterion) -> str:
    return "適合" if criterion.applies else "該当なし"


def _methods(criterion: Criterion, rules: dict[str, list[str]]) -> str:
    parts = []
    for check in criterion.checks:
        if check is AXE:
            ids = rules.get(criterion.number, [])
            parts += [f"axe（{', '.join(ids)}）"] if ids else []
        else:
            parts.append(check.what)
    if criterion.person:
        parts.append(f"人：{criterion.person}")
    return "<br>".join(parts)


def render(axe_version: str, rules: dict[str, list[str]], public: list[str], organizer: list[str]) -> str:
    """The report's Markdown."""
    rows = [
        f"| {c.number} | {c.name} | {c.level} | {c.since} | {_methods(c, rules)} | {_result(c)} |" for c in CRITERIA
    ]
    checks = [check for check in CHECKS if any(check in c.checks for c in CRITERIA)]
    return "\n".join(
        [
            "# ウェブアクセシビリティ試験結果（JIS X 8341-3:2016）",
            "",
            "このページは `make accessibility-report` が作り、`make test` が最新であることを確かめます"
            "（tests/accessibility_report.py）。自動の試験は `make test` のたびにすべて通っており、"
            "通らない変更は取り込まれません。",
            "",
            "## 試験の概要",
            "",
            "- 規格：JIS X 8341-3:2016（WCAG 2.0 と同じ達成基準）。"
            "あわせて WCAG 2.1 と 2.2 で加わった達成基準も試験しています。",
            "- 目標とする適合レベル：AA（レベル A と AA のすべての達成基準）",
            "- 対象：uketsuke が表示するすべての種類のページ（下の一覧）。主催者が書いた文章と画像は主催者の責任です。",
            f"- 試験に使ったもの：Debian の Chromium（Playwright で操作）、axe-core {axe_version}、"
            "W3C Nu HTML Checker（npm の vnu-jar）",
            f"- 人による確認の日：{PERSON_CHECKED}",
            "",
            "## 対象のページ",
            "",
            "参加者のページ："
            + "、".join(f"`{p}`" for p in public)
            + "、申し込み後の本人のページ、エラーのあるフォーム",
            "",
            "主催者のページ：" + "、".join(f"`{p}`" for p in organizer),
            "",
            "## 試験の方法",
            "",
            *[f"- {check.what}（{check.where}）" for check in checks],
            f"- 人：人が画面を見て確かめたこと（{PERSON_CHECKED}）",
            "",
            "## 達成基準チェックリスト",
            "",
            "| 達成基準 | 名前 | レベル | WCAG | 試験の方法 | 結果 |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            "「該当なし」は、その達成基準が対象とするもの（音声・映像、ジェスチャなど）がページにないことを示します。",
            "",
            "## レベル AA を超えて",
            "",
            "- やさしい日本語（3.1.5 読解レベル、AAA）：参加者のページとメールすべてを、ページ上部の切り替えで"
            "やさしい日本語にできます（tests/test_every_language.py が、参加者の見るページとメールのすべての文に"
            "やさしい日本語があることを確かめます）。",
            "- 外国語：簡体字中国語、韓国語、ベトナム語、ポルトガル語でも、参加者のページとメールのすべての文を"
            '表示します（同じ試験で確かめます）。主催者が訳さなかった文章は日本語のまま lang="ja" とふりがなを付け、'
            "そのことをページに書きます。",
            "- ふりがな（3.1.6 発音、AAA）：参加者のページすべてに「ふりがなをつける」があり、サーバーが"
            " `<ruby>` を付けます（スクリプトなし。tests/test_furigana.py）。サイトの文は文ごとに読み、"
            "イベントの言葉は保存のときに読んで主催者が直せます。",
            "",
            "## ウェブアクセシビリティ方針（ひな形）",
            "",
            "自治体のサイトにそのまま載せられるひな形です。〔 〕の中を書き換えてください。",
            "",
            "> 〔自治体名〕は、〔イベント名〕の申し込みページ（uketsuke）について、JIS X 8341-3:2016 の"
            "適合レベル AA に準拠することを目標とします。",
            ">",
            "> - 対象：〔申し込みページの URL〕以下のページ",
            "> - 目標を達成する期限：〔公開日〕",
            "> - 例外：主催者が掲載する画像と文章は、掲載のたびに〔担当課〕が確かめます。",
            "> - 試験結果：このページの「達成基準チェックリスト」のとおりです。",
            "> - お問い合わせ：〔担当課・電話番号・メールアドレス〕",
            "",
        ]
    )


def build() -> str:
    """The report as the tests and the installed axe-core make it now."""
    from tests.test_accessibility import PUBLIC_PATHS
    from tests.test_browser import organizer_paths

    version, rules = axe_rules()
    return render(version, rules, PUBLIC_PATHS, organizer_paths())


if __name__ == "__main__":
    REPORT.write_text(build(), encoding="utf-8")
    sys.stdout.write(f"wrote {REPORT.relative_to(ROOT)}\n")
