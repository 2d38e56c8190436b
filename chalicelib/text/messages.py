"""Every user-facing sentence the Python code produces, in one place (templates hold the rest)."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.text.i18n import N_, gettext

# Field labels, in form order. Keys are the form/JSON field names.
PHONE_INVALID = N_("電話番号は 0242-73-2111 のように、数字とハイフンで入力してください")
FIELD_LABELS: dict[str, str] = {
    "name": N_("氏名"),
    "kana": N_("フリガナ"),
    "organization": N_("所属"),
    "job_title": N_("役職"),
    "email": N_("メールアドレス"),
    "category": N_("参加区分"),
    "question": N_("講師への質問"),
    "needs": N_("配慮が必要なこと"),
    "needs_note": N_("配慮についての詳細"),
    "consent": N_("個人情報の取り扱いへの同意"),
    "phone": N_("電話番号"),
}
# 合理的配慮 a registrant may ask for (domain/attendee.ACCOMMODATIONS), as registrants and staff read them.
ACCOMMODATION_LABELS = {
    "wheelchair": N_("車いすで来場する"),
    "sign_language": N_("手話通訳"),
    "captioning": N_("要約筆記（文字による通訳）"),
    "seating": N_("座席の配慮（前方・出入口の近くなど）"),
    "companion": N_("介助者・付き添いの方と来場する"),
}
# The event's own questions (domain/questions.py).
CHOICE_FULL = N_("「{choice}」は定員に達しました。ほかの答えを選んでください（お申し込みはまだ完了していません）")
CHOICE_LEFT = N_("（残り{left}名）")
CHOICE_NONE_LEFT = N_("（満員）")
CHOICE_WAITLIST = N_("（満席：選ぶとキャンセル待ちになります）")
YES = N_("はい")
NO = N_("いいえ")
ANSWER_NOT_A_LIST = N_("「{label}」の答えは選択肢のキーのリストで指定してください")
ANSWER_NOT_YES_NO = N_("「{label}」の答えは true か false で指定してください")
ANSWER_UNKNOWN_CHOICE = N_("「{label}」に「{value}」という選択肢はありません（選べるもの：{known}）")
NEEDS_NOT_A_LIST = N_("needs は配慮の種類を並べたリストで指定してください")
NEEDS_UNKNOWN = N_("配慮の種類「{value}」はありません（指定できるもの：{known}）")

REQUIRED = N_("{label}を入力してください")
REQUIRED_CHOICE = N_("{label}を選んでください")
TOO_LONG = N_("{label}は{limit}文字以内で入力してください（現在{length}文字）")
NOT_TEXT = N_("{label}は文字で入力してください")
# Lone surrogates and noncharacters (text/scalars.py): what no mail or page can carry.
NOT_UNICODE = N_("{label}に文字として扱えない記号が含まれています。入力し直してください")
REQUEST_NOT_UNICODE = N_("送信された内容に文字として扱えない記号が含まれています。入力し直してください")
KANA_ONLY = N_("フリガナはカタカナで入力してください（ひらがなは自動でカタカナに直します）")
EMAIL_NO_AT = N_("メールアドレスに「@」が含まれていません（例: taro@example.jp）")
EMAIL_INVALID = N_("メールアドレスの形式が正しくありません（例: taro@example.jp）")
# Mail servers (Amazon SES among them) accept only ASCII before the @; a domain may be in any script.
EMAIL_LOCAL_NOT_ASCII = N_(
    "メールアドレスの「@」より前は半角の英数字と記号で入力してください（全角文字や漢字にはメールを送れません）"
)
EMAIL_LOCAL_TOO_LONG = N_("メールアドレスの「@」より前は64文字以内で入力してください（現在{length}文字）")
UNKNOWN_CATEGORY = N_("参加区分は一覧から選んでください")
CONSENT_NEEDED = N_("お申し込みには個人情報の取り扱いへの同意が必要です")
BODY_NOT_OBJECT = N_("リクエスト本文はJSONオブジェクトで送ってください")
API_KEY_NAME_NEEDED = N_("キーの用途を入力してください（どのシステムで使うかが分かるように）")
API_KEY_NAME_TOO_LONG = N_("キーの用途は{limit}文字以内で入力してください（現在{length}文字）")
API_KEY_SCOPE_UNKNOWN = N_("選んだイベントが見つかりません。一覧から選び直してください")
API_KEY_REVOKED = N_("キーを無効にしました。このキーでのリクエストは、今から受け付けません")
API_KEY_NEEDED = N_("APIキーが必要です。主催者ページで発行したキーを Authorization: Bearer ヘッダーで送ってください")
API_TOO_MANY = N_("このAPIキーからのリクエストが多すぎます。1分ほど待ってからもう一度送ってください")
API_JSON_ONLY = N_("リクエスト本文は Content-Type: application/json で送ってください")
API_OTHER_SITE = N_("ほかのサイトのページからはこのAPIを使えません")
IDEMPOTENCY_KEY_INVALID = N_("Idempotency-Key は空白を含まない半角英数字と記号で、{limit}文字以内にしてください")
IDEMPOTENCY_KEY_REUSED = N_(
    "この Idempotency-Key は別の内容のリクエストに使われています。新しいリクエストには新しいキーを使ってください"
)
IDEMPOTENCY_IN_PROGRESS = N_("同じ Idempotency-Key のリクエストを処理中です。少し待ってからもう一度送ってください")
BODY_NOT_JSON = N_("リクエスト本文をJSONとして読み取れませんでした")
BODY_TOO_DEEP = N_("リクエスト本文の入れ子が深すぎます（{limit}段まで）")
BODY_TOO_LARGE = N_("送信された内容が大きすぎます（{limit}バイトまで）。講師への質問などを短くしてください")
BODY_NOT_UTF8 = N_("送信された内容を読み取れませんでした。お手数ですが、もう一度入力してください（文字コードはUTF-8）")

ERROR_SUMMARY_TITLE = N_("入力内容を確認してください")

# Answers for requests no page handles (web/edge.py): also served by API Gateway itself, in both languages.
EDGE_NOT_FOUND = (N_("ページが見つかりません"), N_("アドレスが正しいか、ご確認ください。"))
EDGE_NOT_ALLOWED = (N_("この操作は受け付けていません"), N_("このページへのこの種類のリクエストは受け付けていません。"))
EDGE_THROTTLED = (N_("アクセスが集中しています"), N_("数分待ってから、もう一度お試しください。"))
EDGE_CLIENT_ERROR = (
    N_("リクエストを処理できませんでした"),
    N_("アドレスや送信した内容をご確認のうえ、もう一度お試しください。"),
)
EDGE_SERVER_ERROR = (
    N_("ただいま表示できません"),
    N_("一時的な問題が起きています。数分待ってから、もう一度お試しください。"),
)
EDGE_HOME = N_("開催予定のイベント一覧へ")

# The registration form's checks against bots (bots.py); a person sees these and presses the button again.
FORM_CHECKS = {
    "honeypot": N_("お申し込みを受け付けられませんでした。入力内容を確認して、もう一度お試しください"),
    "no_token": N_("送信を確認できませんでした。入力内容はそのままです。もう一度「申し込む」を押してください"),
    "expired": N_(
        "ページを開いてから時間がたったため、確認のためもう一度「申し込む」を押してください（入力内容はそのままです）"
    ),
    "too_fast": N_("確認のため、もう一度「申し込む」を押してください（入力内容はそのままです）"),
}

# Outcomes of a registration attempt.
# Too many people at once: every retry of the transaction lost its race; nothing was registered.
BUSY = N_(
    "混み合っているため、お申し込みを完了できませんでした（まだ登録されていません）。入力内容はそのままです。"
    "少し待ってから、もう一度「申し込む」を押してください"
)
BUSY_API = N_(
    "混み合っているため処理できませんでした（登録はされていません）。"
    "Retry-After の秒数だけ待ってから、同じ内容でもう一度送ってください"
)
EVENT_NOT_FOUND = N_("お探しのイベントは見つかりませんでした")
RESUBMITTED = N_(
    "このページからのお申し込みは、すでに受け付けています（今回の内容はまだ登録されていません）。"
    "別の方のお申し込みでしたら、入力内容を確かめて、もう一度「申し込む」を押してください"
)
RESUBMITTED_API = N_("この Idempotency-Key で、すでに別の方が登録されています。別の登録には新しいキーを使ってください")
EVENT_FULL = N_("満席のため、お申し込みを受け付けられませんでした")
EVENT_CLOSED = N_("受付は終了しました")
EVENT_DRAWING = N_("抽選の申込受付は終了し、現在抽選中です。結果はお申し込みの方にメールでお知らせします")
ALREADY_REGISTERED = N_("このメールアドレスはすでにお申し込み済みです")
CONFIRMATION_RESENT = N_("お申し込み内容の確認メールをもう一度お送りしました")
CONFIRMATION_RECENTLY_SENT = N_(
    "確認メールは数分以内にお送りしています。届かない場合は迷惑メールフォルダもご確認ください"
)

# The registrant's own page.
LINK_INVALID_TITLE = N_("このリンクは使えません")
LINK_INVALID = N_(
    "リンクが正しくないか、有効期限が切れています。お申し込み時のメールに記載のリンクをもう一度開いてください"
)
CANCEL_CONFIRM_NEEDED = N_("キャンセルする場合は、確認のチェックを入れてから「キャンセルする」を押してください")
CANCEL_TOO_LATE = N_("キャンセルの受付期限を過ぎています。ご欠席の場合は主催者にご連絡ください")
CORRECTION_REFUSED = {
    "not_active": N_("このお申し込みは取り消し済みのため、変更できません"),
    "choice_full": N_("選んだ答えには空きがないため、変更できませんでした（何も保存していません）"),
    "no_seat_in_category": N_(
        "変更先の参加区分の席に空きがないため、参加区分は変更できませんでした。"
        "ほかの項目を変える場合は、参加区分を元に戻して保存してください"
    ),
}
ACTION_UNKNOWN = N_("操作を読み取れませんでした。もう一度お試しください")
ERASE_CONFIRM_NEEDED = N_("削除する場合は、確認のチェックを入れてから「個人情報を削除する」を押してください")
# The confirmation box each destructive action on the registrant's page needs.
CONFIRMATION_NEEDED = {"cancel": CANCEL_CONFIRM_NEEDED, "erase": ERASE_CONFIRM_NEEDED}
ERASED_ALREADY = N_("このお申し込みの個人情報は削除済みのため、変更できません")
DONE_NOTICES = {
    "saved": N_("お申し込み内容を変更しました"),
    "cancelled": N_("お申し込みを取り消しました。確認のメールをお送りします"),
    "erased": N_("お名前・ご所属・メールアドレスなどの個人情報を削除しました。今後メールはお送りしません"),
    "attending": N_("ご参加のお知らせを受け付けました。当日お会いできるのを楽しみにしています"),
    "declined": N_("お知らせありがとうございました。お申し込みを取り消し、お席をキャンセル待ちの方にお譲りしました"),
    "taken_back": N_("お席を取り戻しました。確認のメールをお送りします"),
    "surveyed": N_("アンケートにご回答いただき、ありがとうございました"),
}
# Why a released seat could not be taken back, by reconfirmation.TakeBack.
TAKE_BACK_REFUSED = {
    "no_seat": N_(
        "いまは空いている席がないため、お席を取り戻せませんでした。キャンセル待ちへのお申し込みは、イベントのページからどうぞ"
    ),
    "address_in_use": N_("このメールアドレスで、すでに新しいお申し込みがあります"),
    "not_released": N_("このお申し込みは、お譲りした席ではありません"),
    "too_late": N_("イベントが始まったため（または中止になったため）、お席は取り戻せません"),
}
ATTENDANCE_NO_SEAT = N_("このお申し込みには、いまお席がありません。お申し込みの状態は、このページでご確認ください")

# A hybrid event's modes, as the page's seat line and the organizer's counts name them.
POOL_LABELS = {"venue": N_("会場"), "online": N_("オンライン")}
# The hybrid event's own question (domain/event_file/online.py): the site's words, in every language.
ATTENDANCE_LABEL = N_("参加方法")
ATTENDANCE_CHOICES = {"venue": N_("会場で参加"), "online": N_("オンラインで参加")}

AVAILABILITY_LABELS = {
    "open": N_("受付中"),
    "full": N_("満席"),
    "closed": N_("受付終了"),
    "lottery": N_("抽選申込受付中"),
    "drawing": N_("抽選中"),
    "cancelled": N_("中止"),
}

CLOSED_REASONS = {
    "capacity": N_("定員に達したため受付を終了しました"),
    "deadline": N_("申込期限を過ぎたため受付を終了しました"),
    "event_cancelled": N_("このイベントは中止になりました"),
}
# Announcements (announcements.py) as organizers see them among their broadcasts.
ANNOUNCEMENT_LABELS = {
    "change": N_("開催内容の変更のお知らせ"),
    "cancellation": N_("中止のお知らせ"),
}
ANNOUNCEMENT_DONE_ALREADY = N_("このお知らせは送信済みです（2回目の送信は行いません）")
ANNOUNCEMENT_NOTHING = N_("登録者にお知らせしていない日時・会場の変更はありません")
ANNOUNCEMENT_CONFIRM_CANCEL = N_("中止して、全員にお知らせすることを確認しました")


def field_error(template: str, field: str, labels: Mapping[str, str] | None = None, **extra: object) -> str:
    """Fill a message template with the field's label (the organizer's own from `labels`), in the current language."""
    return gettext(template).format(label=(labels or {}).get(field) or gettext(FIELD_LABELS[field]), **extra)


# Registration states as organizers read them (lists, exports, counts).
STATUS_LABELS = {
    "confirmed": N_("参加確定"),
    "waitlisted": N_("キャンセル待ち"),
    "applied": N_("抽選申込"),
    "cancelled": N_("取り消し"),
    "checked_in": N_("受付済み"),
}

# The site's own name (page titles, the sender of organizer mail).
SITE_NAME = N_("イベント受付")
QR_LABEL = N_("受付用QRコード（受付番号 {number}）")

# Organizer sign-in.
SIGN_IN_CHECK_MAIL = N_("メールをご確認ください")
SIGN_IN_FAILED = N_("サインインできません")
SIGN_IN_EMAIL_NEEDED = N_("メールアドレスを入力してください")
SIGN_IN_RETURN_INVALID = N_(
    "サインイン後に開くページが、このサイトのページではありません。主催者ページからもう一度サインインしてください"
)
SIGN_IN_SENT = N_(
    "{email} が主催者として登録されていれば、サインイン用のリンクをお送りしました。"
    "メールのリンクは15分間、1回だけ使えます。届かない場合は2分ほど待ってからもう一度お試しください"
)
SIGN_IN_LINK_INVALID = N_(
    "このサインイン用のリンクは使えません。期限切れか、すでに使われています。もう一度サインインをお試しください"
)
SIGNED_OUT = N_("サインアウトしました")
SESSION_NEEDED = N_("このページを開くには、主催者としてサインインしてください")
FORM_EXPIRED = N_("画面を開いてから時間がたったか、別の画面から送信されました。もう一度操作してください")

# Marks in the exported lists.
MARK_CHECKED_IN = N_("済")
MARK_CAME = N_("来場")

# Check-in at the door.
CHECK_IN_QR_INVALID = N_(
    "このQRコードは、このイベントの受付用ではないか、正しく読み取れませんでした。名前で検索してください"
)
CHECK_IN_RESULT = {
    "checked_in": N_("受付しました"),
    "already": N_("この方は受付済みです"),
    "no_seat": N_("この方は参加確定ではありません（{status}）。受付できません"),
    "not_found": N_("このお申し込みは見つかりませんでした"),
}

# Broadcasts.
SUBJECT_LABEL = N_("件名")
BODY_LABEL = N_("本文")
BROADCAST_SUBJECT_NEEDED = N_("件名を入力してください")
BROADCAST_BODY_NEEDED = N_("本文を入力してください")
BROADCAST_AUDIENCE_UNKNOWN = N_("送信先は一覧から選んでください")
BROADCAST_AFTER_THE_EVENT = N_("来られた方・来られなかった方には、イベントが始まってから送れます")
BROADCAST_NO_RECIPIENTS = N_("この条件に当てはまる方がいないため、送信できません")
BROADCAST_NOT_FOUND = N_("このお知らせは見つかりませんでした")
# Asking for one's personal link again, without the mail (the same answer whether or not the address registered).
LINK_REQUEST_TITLE = N_("お申し込み済みの方へ：専用ページのリンクをもう一度送る")
LINK_REQUEST_SENT_TITLE = N_("メールをご確認ください")
LINK_REQUEST_SENT = N_(
    "このアドレスでのお申し込みがあれば、あなた専用のページへのリンクを数分以内にお送りします。"
    "同じアドレスへは{minutes}分に1通までです。届かない場合は、迷惑メールフォルダもご確認ください。"
)
LINK_REQUEST_TOO_MANY = N_(
    "このページから、または同じ接続元から、短い時間に何度も送られました。しばらく待ってから、もう一度お試しください"
)
LINK_REQUEST_CHECK = N_("送信を確認できませんでした。入力内容はそのままです。もう一度「リンクを送る」を押してください")
EMAIL_TYPO = N_("メールアドレスの「{typed}」は「{suggested}」の誤りではありませんか？ どちらかを選んでください。")
LIST_SEPARATOR = N_("、")
# Staff acting on registrations (usecases/assisted.py).
CHANNEL_LABELS = {
    "phone": N_("電話"),
    "fax": N_("FAX"),
    "counter": N_("窓口"),
    "door": N_("当日参加（受付で登録）"),
}
AUDIT_ACTION_LABELS = {
    "added": N_("主催者が登録"),
    "walk_in": N_("当日参加として登録・受付"),
    "edited": N_("内容を修正"),
    "address_changed": N_("メールアドレスを変更"),
    "cancelled": N_("主催者が取り消し"),
    "moved_up": N_("主催者が繰り上げ"),
    "put_first": N_("主催者がキャンセル待ちの先頭に"),
    "reinstated": N_("取り消しを戻して再登録"),
    "check_in_undone": N_("受付を取り消し"),
    "reached": N_("連絡した（メールのない方）"),
}
DESK_DONE = {
    "added": N_("登録しました"),
    "saved": N_("変更を保存しました"),
    "cancelled": N_("取り消しました"),
    "moved_up": N_("参加確定に繰り上げました"),
    "put_first": N_("空席がないため、キャンセル待ちの先頭にしました。次に空いた席はこの方のものになります"),
    "reinstated": N_("新しい受付番号で登録し直しました"),
    "check_in_undone": N_("受付を取り消しました"),
    "reached": N_("連絡したことを記録しました"),
}
DESK_REFUSED = {
    "not_active": N_("このお申し込みは取り消し済みのため、変更できません"),
    "choice_full": N_("選んだ答えには空きがないため、変更できませんでした（何も保存していません）"),
    "no_seat_in_category": N_("その参加区分には空席がないため、変更できません"),
    "address_taken": N_("そのメールアドレスは、このイベントにすでに別のお申し込みがあります"),
    "not_waiting": N_("この方はキャンセル待ちではありません"),
    "no_seat": N_("空席がないため、できません（定員を増やすか、ほかの方の取り消しを待ってください）"),
    "called_off": N_("このイベントは中止になっています"),
    "already_registered": N_("このメールアドレスで、すでに別のお申し込みがあります"),
    "not_checked_in": N_("この方は受付済みではありません"),
}
DESK_ADD_REFUSED = {
    "full": N_("空席がないため登録できませんでした（何も保存していません）"),
    "already_registered": N_("このメールアドレスは、このイベントにすでにお申し込みがあります"),
    "closed": N_("このイベントは受付を終了しています"),
    "drawing": N_("抽選の前のため、いまは登録できません"),
    "not_found": N_("イベントが見つかりません"),
    "busy": N_("混み合っています。もう一度押してください（入力内容はそのままです）"),
    "choice_full": N_(
        "定員のある答えが満員のため登録できませんでした（何も保存していません）。ほかの答えを選んでください"
    ),
}
DESK_REASON_NEEDED = N_("理由を入力してください（記録に残ります）")
DESK_CHANNEL_NEEDED = N_("受付方法を選んでください")
EDITOR_PROBLEM = N_("イベントファイルに誤りがあるため、保存していません。直してから、もう一度押してください：{problem}")
EDITOR_SAVED = N_("保存して公開しました")
EDITOR_MOMENT_NEEDED = N_("日時を入力してください")
EDITOR_MOMENT_INVALID = N_("日時は 2027-01-20T15:00 のように入力してください")
EDITOR_COUNT_NEEDED = N_("0以上の整数で入力してください")
ROLE_LABELS = {
    "owner": N_("オーナー（すべて。スタッフの管理・APIキー・変更や中止のお知らせを含む）"),
    "staff": N_("スタッフ（申し込みの確認・名簿の出力・一斉連絡・受付）"),
    "door": N_("受付係（当日の受付と名前の検索だけ）"),
    "remove": N_("外す（この画面を使えなくする）"),
}
ROLE_UNKNOWN = N_("役割を選んでください")
ROLE_LAST_OWNER = N_("オーナーが1人もいなくなるため、変更できません。先にほかの人をオーナーにしてください")
ROLE_SAVED = N_("役割を保存しました。変更はすぐに反映されます")
ROLE_NOT_ALLOWED = N_("この画面はあなたの役割では使えません。必要な場合は、主催者（オーナー）に依頼してください")
EXPORT_UNKNOWN = N_("そのような一覧はありません")
# What each list holds and whom it is for, shown beside its download link (exports.HOLDS decides).
EXPORT_LISTS = {
    "door": (
        N_("受付用の名簿"),
        N_("参加確定の方とキャンセル待ちの方。フリガナ順で、受付の状態も入ります。当日の受付スタッフ用です。"),
    ),
    "meishi": (
        N_("名刺交換用の一覧"),
        N_(
            "参加確定の方だけ（取り消した方・キャンセル待ちの方は入りません。フォームで同意を尋ねたイベントでは、同意した方だけ）。"
            "メールアドレスが入るため、取り扱いにご注意ください。"
        ),
    ),
    "accommodation": (
        N_("配慮が必要な方の一覧"),
        N_(
            "「配慮が必要なこと」に答えた参加確定・キャンセル待ちの方だけ。当日の準備と、必要なら事前のご連絡のためです。"
        ),
    ),
    "answers": (
        N_("独自の質問への回答の一覧"),
        N_("イベントで尋ねた独自の質問への回答（取り消した方を除く）。削除した質問への回答も残ります。"),
    ),
    "audit": (
        N_("主催者による操作の記録"),
        N_(
            "電話・窓口での登録、修正、取り消し、繰り上げ、受付の取り消しなど、主催者がしたことの記録。変えた項目の名前だけで、内容は入りません。"
        ),
    ),
    "waitlist": (
        N_("キャンセル待ちの一覧"),
        N_("キャンセル待ちの方だけ、順番どおり。当日に席が空いたときの連絡用です。"),
    ),
}
BROADCAST_QUEUED = N_("送信を受け付けました。1分以内に配信が始まります")
AUDIENCE_LABELS = {
    "all": N_("お申し込みの方全員（取り消した方を除く）"),
    "confirmed": N_("参加確定の方"),
    "waitlisted": N_("キャンセル待ちの方"),
    "applied": N_("抽選申込の方"),
    "attended": N_("当日来られた方（受付済み）：お礼や資料のご案内に"),
    "no_show": N_("参加確定で、会場に来られなかった方（オンライン参加の方を除く）"),
}

# The mail history on a registration's detail page.
MAIL_KIND_LABELS = {
    "confirmation": N_("申込完了"),
    "reminder": N_("リマインダー"),
    "waitlisted": N_("キャンセル待ち受付"),
    "promoted": N_("繰り上げ参加確定"),
    "cancelled": N_("取り消し"),
    "applied": N_("抽選申込受付"),
    "draw_won": N_("当選"),
    "draw_lost": N_("抽選結果（キャンセル待ち）"),
    "feedback_notice": N_("配信エラーの主催者への通知"),
    "unsendable_notice": N_("送信できないメールの主催者への通知"),
    "broadcast": N_("主催者からのお知らせ"),
    "change_notice": N_("開催内容の変更"),
    "event_cancelled": N_("中止のお知らせ"),
    "address_changed": N_("メールアドレス変更の通知（変更前のアドレスへ）"),
    "reconfirm": N_("出欠の確認"),
    "released": N_("お席のお譲り（返事がなかったため）"),
}
MAIL_STATUS_LABELS = {
    "pending": N_("送信待ち"),
    "sending": N_("送信中"),
    "sent": N_("送信済み"),
    "failed": N_("送信できず"),
}
MAIL_FEEDBACK_LABELS = {"bounce": N_("不達（バウンス）"), "complaint": N_("迷惑メール報告")}

# An event's stage on the organizer's dashboard (domain/event_state.Lifecycle).
LIFECYCLE_LABELS = {
    "draft": N_("下書き"),
    "open": N_("受付中"),
    "full": N_("満席"),
    "waitlist_only": N_("満席・キャンセル待ちのみ"),
    "closed": N_("受付終了"),
    "cancelled": N_("中止"),
    "unpublished": N_("非公開"),
    "ended": N_("終了"),
    "archived": N_("アーカイブ済み"),
}
LIFECYCLE_PUBLISHED = N_("公開しました。イベントのページのアドレスとQRコードを、広報やポスターにお使いください")
LIFECYCLE_DELETED = N_("下書きを削除しました")
LIFECYCLE_ARCHIVED = N_("アーカイブしました")
LIFECYCLE_NOT_DRAFT = N_(
    "下書きではないため、削除できません（お申し込みのあるイベントは、中止または非公開にしてください）"
)
LIFECYCLE_NOT_ENDED = N_("終了したイベントだけをアーカイブできます")
LIFECYCLE_CONFIRM = N_("確認のチェックを入れてください")
BUILDER_SAVED_DRAFT = N_("下書きとして保存しました。まだ公開していません")
CROSS_SITE = N_("ほかのサイトから送られたフォームは受け付けません。このサイトのページからもう一度操作してください")
BUILDER_SAVE_DRAFT = N_("下書きとして保存する")
BUILDER_SAVE = N_("この内容で保存する")
# 参加証明 (web/attendance.py): asked for by someone not checked in, or where the event gives none.
SURVEY_NONE = N_("このイベントにはアンケートがありません")
CERTIFICATE_NONE_TITLE = N_("参加証明はありません")
CERTIFICATE_NONE = N_("参加証明は、イベントの受付を済ませた方に、主催者が出す場合だけお渡ししています")
