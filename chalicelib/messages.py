"""Every user-facing sentence the Python code produces, in one place (templates hold the rest)."""

from __future__ import annotations

# Field labels, in form order. Keys are the form/JSON field names.
FIELD_LABELS: dict[str, str] = {
    "name": "氏名",
    "kana": "フリガナ",
    "organization": "所属",
    "job_title": "役職",
    "email": "メールアドレス",
    "category": "参加区分",
    "question": "講師への質問",
    "consent": "個人情報の取り扱いへの同意",
}

REQUIRED = "{label}を入力してください"
REQUIRED_CHOICE = "{label}を選んでください"
TOO_LONG = "{label}は{limit}文字以内で入力してください（現在{length}文字）"
NOT_TEXT = "{label}は文字で入力してください"
KANA_ONLY = "フリガナはカタカナで入力してください（ひらがなは自動でカタカナに直します）"
EMAIL_NO_AT = "メールアドレスに「@」が含まれていません（例: taro@example.jp）"
EMAIL_INVALID = "メールアドレスの形式が正しくありません（例: taro@example.jp）"
UNKNOWN_CATEGORY = "参加区分は一覧から選んでください"
CONSENT_NEEDED = "お申し込みには個人情報の取り扱いへの同意が必要です"
BODY_NOT_OBJECT = "リクエスト本文はJSONオブジェクトで送ってください"
BODY_TOO_LARGE = "送信された内容が大きすぎます（{limit}バイトまで）。講師への質問などを短くしてください"
BODY_NOT_UTF8 = "送信された内容を読み取れませんでした。お手数ですが、もう一度入力してください（文字コードはUTF-8）"

ERROR_SUMMARY_TITLE = "入力内容を確認してください"

# The registration form's checks against bots (bots.py); a person sees these and presses the button again.
FORM_CHECKS = {
    "honeypot": "お申し込みを受け付けられませんでした。入力内容を確認して、もう一度お試しください",
    "no_token": "送信を確認できませんでした。入力内容はそのままです。もう一度「申し込む」を押してください",
    "expired": "ページを開いてから時間がたったため、確認のためもう一度「申し込む」を押してください"
    "（入力内容はそのままです）",
    "too_fast": "確認のため、もう一度「申し込む」を押してください（入力内容はそのままです）",
}

# Outcomes of a registration attempt.
EVENT_NOT_FOUND = "お探しのイベントは見つかりませんでした"
EVENT_FULL = "満席のため、お申し込みを受け付けられませんでした"
EVENT_CLOSED = "受付は終了しました"
EVENT_DRAWING = "抽選の申込受付は終了し、現在抽選中です。結果はお申し込みの方にメールでお知らせします"
ALREADY_REGISTERED = "このメールアドレスはすでにお申し込み済みです"
CONFIRMATION_RESENT = "お申し込み内容の確認メールをもう一度お送りしました"
CONFIRMATION_RECENTLY_SENT = "確認メールは数分以内にお送りしています。届かない場合は迷惑メールフォルダもご確認ください"

# The registrant's own page.
LINK_INVALID_TITLE = "このリンクは使えません"
LINK_INVALID = (
    "リンクが正しくないか、有効期限が切れています。お申し込み時のメールに記載のリンクをもう一度開いてください"
)
CANCEL_CONFIRM_NEEDED = "キャンセルする場合は、確認のチェックを入れてから「キャンセルする」を押してください"
CANCEL_TOO_LATE = "キャンセルの受付期限を過ぎています。ご欠席の場合は主催者にご連絡ください"
CORRECTION_REFUSED = {
    "not_active": "このお申し込みは取り消し済みのため、変更できません",
    "no_seat_in_category": "変更先の参加区分の席に空きがないため、参加区分は変更できませんでした。"
    "ほかの項目を変える場合は、参加区分を元に戻して保存してください",
}
ACTION_UNKNOWN = "操作を読み取れませんでした。もう一度お試しください"
ERASE_CONFIRM_NEEDED = "削除する場合は、確認のチェックを入れてから「個人情報を削除する」を押してください"
ERASED_ALREADY = "このお申し込みの個人情報は削除済みのため、変更できません"
DONE_NOTICES = {
    "saved": "お申し込み内容を変更しました",
    "cancelled": "お申し込みを取り消しました。確認のメールをお送りします",
    "erased": "お名前・ご所属・メールアドレスなどの個人情報を削除しました。今後メールはお送りしません",
}

AVAILABILITY_LABELS = {
    "open": "受付中",
    "full": "満席",
    "closed": "受付終了",
    "lottery": "抽選申込受付中",
    "drawing": "抽選中",
}

CLOSED_REASONS = {
    "capacity": "定員に達したため受付を終了しました",
    "deadline": "申込期限を過ぎたため受付を終了しました",
}

WEEKDAYS = "月火水木金土日"


def field_error(template: str, field: str, **extra: object) -> str:
    """Fill a message template with the field's label."""
    return template.format(label=FIELD_LABELS[field], **extra)


# Registration states as organizers read them (lists, exports, counts).
STATUS_LABELS = {
    "confirmed": "参加確定",
    "waitlisted": "キャンセル待ち",
    "applied": "抽選申込",
    "cancelled": "取り消し",
    "checked_in": "受付済み",
}

# Organizer sign-in.
SIGN_IN_EMAIL_NEEDED = "メールアドレスを入力してください"
SIGN_IN_SENT = (
    "{email} が主催者として登録されていれば、サインイン用のリンクをお送りしました。"
    "メールのリンクは15分間、1回だけ使えます。届かない場合は2分ほど待ってからもう一度お試しください"
)
SIGN_IN_LINK_INVALID = (
    "このサインイン用のリンクは使えません。期限切れか、すでに使われています。もう一度サインインをお試しください"
)
SIGNED_OUT = "サインアウトしました"
SESSION_NEEDED = "このページを開くには、主催者としてサインインしてください"
FORM_EXPIRED = "画面を開いてから時間がたったか、別の画面から送信されました。もう一度操作してください"

# Check-in at the door.
CHECK_IN_QR_INVALID = (
    "このQRコードは、このイベントの受付用ではないか、正しく読み取れませんでした。名前で検索してください"
)
CHECK_IN_RESULT = {
    "checked_in": "受付しました",
    "already": "この方は受付済みです",
    "no_seat": "この方は参加確定ではありません（{status}）。受付できません",
    "not_found": "このお申し込みは見つかりませんでした",
}

# Broadcasts.
BROADCAST_SUBJECT_NEEDED = "件名を入力してください"
BROADCAST_BODY_NEEDED = "本文を入力してください"
BROADCAST_TOO_LONG = "{label}は{limit}文字以内で入力してください（現在{length}文字）"
BROADCAST_AUDIENCE_UNKNOWN = "送信先は一覧から選んでください"
BROADCAST_NO_RECIPIENTS = "この条件に当てはまる方がいないため、送信できません"
BROADCAST_NOT_FOUND = "このお知らせは見つかりませんでした"
EXPORT_UNKNOWN = "そのような一覧はありません"
BROADCAST_QUEUED = "送信を受け付けました。1分以内に配信が始まります"
AUDIENCE_LABELS = {
    "all": "お申し込みの方全員（取り消した方を除く）",
    "confirmed": "参加確定の方",
    "waitlisted": "キャンセル待ちの方",
    "applied": "抽選申込の方",
}

# The mail history on a registration's detail page.
MAIL_KIND_LABELS = {
    "confirmation": "申込完了",
    "reminder": "リマインダー",
    "waitlisted": "キャンセル待ち受付",
    "promoted": "繰り上げ参加確定",
    "cancelled": "取り消し",
    "applied": "抽選申込受付",
    "draw_won": "当選",
    "draw_lost": "抽選結果（キャンセル待ち）",
    "feedback_notice": "配信エラーの主催者への通知",
    "broadcast": "主催者からのお知らせ",
}
MAIL_STATUS_LABELS = {"pending": "送信待ち", "sending": "送信中", "sent": "送信済み", "failed": "送信できず"}
MAIL_FEEDBACK_LABELS = {"bounce": "不達（バウンス）", "complaint": "迷惑メール報告"}
