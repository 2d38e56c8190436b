"""SpamAssassin's verdict on mails, from its Debian package's rules (no network tests, no learned Bayes).

One Perl process loads the rules once and scores every message given to it (the `spamassassin` command
would load them again for each mail, about a second each). The messages get the headers SES adds to
every mail it sends (Date and Message-ID; RFC 5322 requires both and their absence is itself scored).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path

from chalicelib.domain.clock import parse_iso

# Reads the files named on its command line and prints "score<TAB>rule,rule" for each, in order.
_CHECKER = r"""
use strict;
use warnings;
use Mail::SpamAssassin;
my $sa = Mail::SpamAssassin->new({
    local_tests_only => 1,
    dont_copy_prefs => 1,
    userprefs_filename => '/dev/null',
    home_dir_for_helpers => $ENV{SA_HOME},
    post_config_text => "use_bayes 0\nuse_auto_whitelist 0\n",
});
$sa->compile_now(0);
for my $path (@ARGV) {
    open(my $fh, '<', $path) or die "$path: $!";
    my @lines = <$fh>;
    close($fh);
    my $mail = $sa->parse(\@lines);
    my $status = $sa->check($mail);
    printf "%.3f\t%s\n", $status->get_score(), join(',', sort split(/,/, $status->get_names_of_tests_hit()));
    $status->finish();
    $mail->finish();
}
"""

SES_DATE = format_datetime(parse_iso("2027-01-10T01:00:00Z"))
# What the receiving mail server writes on top: SES's outbound host handing the message over (its "Received"
# line; without one, NO_RECEIVED and NO_RELAYS would each take 0.001 off the score).
RECEIVED = (
    "Received: from a8-30.smtp-out.amazonses.com (a8-30.smtp-out.amazonses.com [54.240.8.30])\r\n"
    f"\tby mx.example.jp (Postfix) with ESMTPS id 4Xk2Lq0Z3cz9sR; {SES_DATE}\r\n"
)
SES_MESSAGE_ID = "<0100018d2f3a4b5c-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000@email.amazonses.com>"


@dataclass(frozen=True)
class Verdict:
    """SpamAssassin's score for one mail and the rules that made it."""

    score: float
    rules: tuple[str, ...]


def as_sent(mime: bytes) -> bytes:
    """The message as a recipient's server gets it from SES: with SES's Date and Message-ID, and a Received line."""
    return f"{RECEIVED}Date: {SES_DATE}\r\nMessage-ID: {SES_MESSAGE_ID}\r\n".encode() + mime


def verdicts(messages: list[bytes]) -> list[Verdict]:
    """SpamAssassin's verdict on each message, in order, scored with local rules only."""
    assert shutil.which("spamassassin"), "SpamAssassin is missing: `bash local/system-packages.sh test` installs it"
    with tempfile.TemporaryDirectory() as scratch:
        paths = []
        for index, message in enumerate(messages):
            path = Path(scratch) / f"{index:04}.eml"
            path.write_bytes(message)
            paths.append(str(path))
        home = Path(scratch) / "home"
        home.mkdir()
        done = subprocess.run(
            ["perl", "-e", _CHECKER, *paths],
            capture_output=True,
            text=True,
            check=True,
            env={"SA_HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            timeout=600,
        )
    results = []
    for line in done.stdout.splitlines():
        score, _, rules = line.partition("\t")
        results.append(Verdict(float(score), tuple(rule for rule in rules.split(",") if rule)))
    assert len(results) == len(messages), done.stderr
    return results
