"""`ams render` and `ams check` read policy files without importing `re` or `shlex` (issue 15, start-up in a user
install: with enum, functools and collections they were a third of `ams render`'s CPU). Each stand-in is held here
to what it replaces, on generated text: keystores.ams.policy.shell_words to shlex.split(comments=True, posix=True)
(tokens and errors), the line classifiers to their regular expressions, the queue-name check and the shell quoting
to the old code; dnmatch's attribute-name scan to its regular expression."""

from __future__ import annotations

import re
import shlex

from hypothesis import example, given, settings
from hypothesis import strategies as st

from keystores.ams import dnmatch, policy

SHELL = st.text(alphabet=st.sampled_from(list(" \t\r\n'\"\\#aZ9-=,.$`\x0b\xe9\u2028")), max_size=40)
WORDS = ["AMQ", "amq1234:", "AMQ1234A:", "AMQ12345:", "AMQ1234ab:", "12 : ", "3:\t", "4 :x", "5724-H72",
         "Starting MQSC", "one mqsc", "No commands have", "All valid", "- - -", "---", "--", "MQSC", "mqsc_",
         "mqsc1", "End of", "SET", "set", "DELETE", "DEF", "define", "DIS", "display", "POLICY", "policy", "(", " ",
         "\t", "\x1c", "\x0b", "_", "\u017f", "\u212a", "\u0131", "\u00a0", "\u0663", "x", ":", "\u2028"]
LINES = st.lists(st.sampled_from(WORDS), max_size=6).map("".join)


def _outcome(split, text: str) -> object:
    try:
        return split(text)
    except ValueError as exc:
        return type(exc).__name__, str(exc)


@settings(max_examples=3000)
@given(SHELL)
@example("setmqspl -m QM1 -p 'PAY.IN' -r \"CN=a, O=b\" # comment\n-s SHA256")
@example("a\\\"b 'c\\'d\" \"e\\\\f\\$g\" h#i j\\\n k '' \"\"")
@example("'unclosed")
@example("trailing\\")
def test_shell_words_is_shlex_split(text: str) -> None:
    assert _outcome(policy.shell_words, text) == _outcome(lambda t: shlex.split(t, comments=True, posix=True), text)


@settings(max_examples=3000)
@given(st.one_of(LINES, st.text(max_size=20)))
def test_line_classifiers_are_their_patterns(line: str) -> None:
    assert policy._is_tool_chatter(line) == bool(re.match(policy._CHATTER, line, re.IGNORECASE)), line
    for verbs in (("SET", "DELETE", "DEF", "DEFINE"), ("DIS", "DISPLAY")):
        assert policy._command(line, verbs) == bool(re.match(rf"(?i)^({'|'.join(verbs)})\s+POLICY\b", line)), line
    assert policy._policy_attribute(line) == bool(re.match(r"(?i)^POLICY\s*\(", line)), line


@settings(max_examples=2000)
@given(st.text(alphabet=st.sampled_from(list("AZaz09._/%&-$`\\'\" \n\xe9")), max_size=52))
def test_queue_names_and_shell_quoting_are_the_old_codes(value: str) -> None:
    assert policy._is_object_name(value) == bool(re.match(r"^[A-Za-z0-9._/%]{1,48}$", value))

    def old_quote(value: str) -> str:
        if re.fullmatch(r"[A-Za-z0-9._/%&-]+", value):
            return value
        if re.search(r"[$`\\]", value):
            return shlex.quote(value)
        return '"' + value.replace('"', '\\"') + '"'

    assert policy._shell_quote(value) == old_quote(value)


@settings(max_examples=3000)
@given(st.text(alphabet=st.sampled_from(list("CNOu= ,;+\t-9x\u00a0\u2028=é")), max_size=30))
@example("cn=a, o=B;ou = c+Uid=d")
def test_attribute_name_scan_is_its_pattern(text: str) -> None:
    pattern = re.compile(r"(?:^|(?<=[,;+]))\s*([A-Za-z][A-Za-z0-9-]*)\s*=")
    assert dnmatch.attribute_names(text) == pattern.findall(text), text


def test_render_and_check_of_policies_in_a_user_install_import_no_re(tmp_path, tmp_path_factory) -> None:
    from user_install import user_install

    installed = user_install(tmp_path_factory.mktemp("user-install"))
    spl = tmp_path / "pay.spl"
    spl.write_text("# payments\n./bin/setmqspl -m QM1 -p PAY.IN -s SHA256 -e AES256 \\\n  -r 'CN=bob,O=Other,C=GB' "
                   "-a \"CN=alice,O=MyOrg,C=GB\"\nsetmqspl -m QM1 -p PAY.OUT -s SHA1\n")
    for argv in (["ams", "render", "--policies", str(spl)], ["ams", "render", "--policies", str(spl), "--as", "mqsc"],
                 ["ams", "check", "--policies", str(spl)]):
        done, loaded = installed.run(argv, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "keystores.ams.policy" in loaded and not {"re", "shlex", "contextlib"} & loaded, argv
    assert "SHA1 is deprecated" in done.stdout


def test_render_as_json_in_a_user_install_imports_no_json_and_writes_what_json_wrote(tmp_path,
                                                                                        tmp_path_factory) -> None:
    """`ams render --as json` is written by keystores.json_output: no json (nor its re), and the text is
    json.dumps(policies.as_dict(qmgr), indent=2) as before."""
    import json

    from user_install import user_install

    installed = user_install(tmp_path_factory.mktemp("user-install"))
    spl = tmp_path / "pay.spl"
    spl.write_text("setmqspl -m QM1 -p PAY.IN -s SHA256 -e AES256 -r 'CN=bob,O=Other \\\"x\\\",C=GB' "
                   "-a \"CN=alice,O=MyOrg,C=GB\" -t 0\nsetmqspl -m QM1 -p PAY.OUT -s SHA1 -c 5\n")
    done, loaded = installed.run(["ams", "render", "--policies", str(spl), "--as", "json", "--qmgr", "QM1"],
                                 cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not {"json", "re"} & loaded
    parsed = policy.read_policies(str(spl), qmgr="QM1")
    assert done.stdout == json.dumps(parsed.as_dict("QM1"), indent=2) + "\n"
    assert json.loads(done.stdout)["policies"][0]["recipients"]
