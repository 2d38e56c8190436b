"""What the event builder says of an owner's mistakes, and why an edit would strand people.

Kept apart from messages.py, which holds what attendees and staff read everywhere else.
"""

from __future__ import annotations

from chalicelib.text.i18n import N_

# The event builder (usecases/builder.py): each mistake beside its field, in the organizer's words.
BUILDER_REQUIRED = N_("入力してください")
BUILDER_ONLINE_URL_NEEDED = N_("オンラインで開くときは、参加用のURL（https:// で始まるもの）を入力してください")
BUILDER_DRAW_AT_NEEDED = N_("抽選にするときは、抽選の日時を入力してください")
BUILDER_UNKNOWN_CHOICE = N_("選択肢から選んでください")
BUILDER_TWO_CHOICES = N_("選んで答える質問には、選択肢を2つ以上入力してください")
BUILDER_HTTPS = N_("https:// で始まるアドレスを入力してください")
BUILDER_EMAIL = N_("メールアドレスを office@example.jp のように入力してください")
BUILDER_SLUG = N_(
    "半角の英小文字・数字・ハイフンで入力してください（例：cdo-seminar-2027）。イベントのページのアドレスになります"
)
BUILDER_SLUG_TAKEN = N_("このアドレスはほかのイベントが使っています。別のものにしてください")
BUILDER_ENDS_BEFORE = N_("終了は開始より後にしてください")
BUILDER_CLOSES_AFTER_START = N_("申し込みの締め切りは開始より前にしてください")
BUILDER_CANCEL_AFTER_END = N_("キャンセルの期限は終了より前にしてください")
BUILDER_DRAW_AFTER_CLOSE = N_("抽選は申し込みの締め切りより前にしてください")
BUILDER_SURVEY_QUESTION_NEEDED = N_("アンケートの締め切りを入れるときは、質問を1つ以上入れてください")
BUILDER_SURVEY_CLOSES_BEFORE_START = N_("アンケートの締め切りは開始より後にしてください")
BUILDER_SURVEY_CLOSES_AFTER_ERASURE = N_(
    "アンケートの締め切りは、個人情報を削除する日（終了から保存日数の後）より前にしてください"
)
BUILDER_SURVEY_QUESTION = N_(
    "アンケートの質問を確かめてください（選んで答える質問には選択肢が2つ以上必要で、定員は付けられません）"
)
BUILDER_RECONFIRM_AFTER_START = N_("出欠の確認は開始より前にしてください")
BUILDER_RELEASE_NEEDS_RECONFIRM = N_("席をお譲りするには、先に出欠を確認する日時を入れてください")
BUILDER_RELEASE_BEFORE_RECONFIRM = N_("席をお譲りする日時は、出欠を確認する日時より後にしてください")
BUILDER_RELEASE_AFTER_START = N_("席をお譲りする日時は開始より前にしてください")
BUILDER_CAPACITY = N_("定員は1以上の整数で入力してください")
BUILDER_RESERVED_OVER = N_("参加区分の確保席の合計が定員を超えています")
BUILDER_CATEGORY_NEEDED = N_("参加区分を1つ以上入力してください")
BUILDER_HYBRID_SEATS = N_("会場とオンラインそれぞれの定員を1以上で入力してください（合計が定員になります）")
BUILDER_HYBRID_SUM = N_("会場とオンラインの定員の合計を、全体の定員と同じにしてください")
BUILDER_REMINDER_LATE = N_("開始より前に届くようにしてください")
BUILDER_REMINDER_TWICE = N_("同じリマインダーが2つあります")
BUILDER_TOO_LONG = N_("長すぎます。短くしてください")
BUILDER_RETENTION = N_("1から3650までの日数で入力してください")
# The event's own sender, when this deployment cannot send as it (usecases/senders.py).
SENDER_REFUSED = {
    "not_in_stack": N_(
        "この送信元は、このサイトの送信設定にありません（メールがすべて届かなくなります）。空欄にしてサイトの送信元を使うか、"
        "管理者に、送信元として追加してもう一度デプロイするよう依頼してください"
    ),
    "not_verified": N_(
        "この送信元（またはそのドメイン）は、Amazon SES でまだ確認されていません。"
        "管理者にSESでの確認を依頼するか、空欄にしてサイトの送信元を使ってください"
    ),
}
BUILDER_OTHER = N_("この内容では保存できません。入力を見直してください：{problem}")

# Edits that would strand people (usecases/strandings.py): refused with how many, and what to do first.
STRANDED_CATEGORY = N_(
    "削除した参加区分で{count}名が申し込んでいます。先にその方々の参加区分を変えるか、お申し込みを取り消してください"
    "（何も保存していません）"
)
STRANDED_CHOICE = N_(
    "削除した選択肢を{count}名が選んでいます。先にその方々の答えを変えてください（何も保存していません）"
)
STRANDED_CHOICE_CAPACITY = N_("選択肢の定員が、選んでいる{count}名より少なくなります。{count}名以上にしてください")
STRANDED_MODE = N_(
    "開催方法を変えると、{count}名の参加方法（会場・オンライン）が変わってしまいます。"
    "先にその方々へ連絡し、参加方法を変えるか取り消してください（何も保存していません）"
)
STRANDED_MODE_CAPACITY = N_("参加確定の{count}名より少なくはできません")
BUILDER_READING_KANA = N_("読み方は、ひらがなかカタカナだけで入れてください（例：ばんだいまち）")
