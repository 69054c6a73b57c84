"""AMS security policies as data: read them in every form an admin has, check them by IBM's rules, write them
back for any queue manager.

Forms read (one file may mix them; each statement is detected on its own):
- `setmqspl` command lines (IBM MQ docs, "setmqspl (set security policy)"): shell quoting, `\\` continuations,
  `-p` or `-policy`, `-m &QM` (or `$QM`) placeholders filled from the queue manager asked for, `#` comments;
- MQSC `SET POLICY(..)` / `DELETE POLICY(..)` ("SET POLICY (set security policy) on Multiplatforms"): `+`/`-`
  continuations, `*` comments, quoted values with `''`, ACTION(REPLACE|ADD|REMOVE). MQSC upper-cases unquoted
  values, and so do we (a warning says when that changed a DN);
- `dspmqspl` output ("dspmqspl (display security policy)": `Policy name:`, `Signer DNs:`, ... blocks);
- `DISPLAY POLICY` output (`POLICY(..) SIGNALG(..) RECIP(..) ...` columns after AMQ9086I).

The rules (IBM's setmqspl page and /work/shared/specs/mq-identity.md): one setmqspl replaces a whole policy;
`-r` needs an encryption algorithm and an encryption algorithm needs a recipient; `-a` needs a signature
algorithm; algorithm names are upper case; SHA384/SHA512 need keys longer than 768 bits (checked by the doctor);
MD5, SHA1, RC2, DES and 3DES are deprecated; DN attribute names are upper case with commas between parts; the
policy name is the queue name (an MQ object name, 1..48 characters of A-Z a-z 0-9 . / _ %).

Syntax errors (an unknown flag, a flag without its value, an unclosed quote) raise PolicyFileError naming the file
and line; everything else becomes a Problem with its line and what AMS would do.
"""

from __future__ import annotations

from keystores.errors import KeystoreError, UsageError
from keystores.frozen import FrozenValue, Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

SIGN_ALGORITHMS = ("NONE", "MD5", "SHA1", "SHA256", "SHA384", "SHA512")
ENCRYPT_ALGORITHMS = ("NONE", "RC2", "DES", "3DES", "AES128", "AES256")
DEPRECATED = ("MD5", "SHA1", "RC2", "DES", "3DES")
MAX_KEY_REUSE = 9_999_999
UNLIMITED = -1
FORMS = ("setmqspl", "mqsc", "dspmqspl", "json")
_MAX_FILE_BYTES = 4 * 1024 * 1024  # policy files are text written by people: far below this
_NAME_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/%")


def _is_object_name(name: str) -> bool:
    """re.match(r"^[A-Za-z0-9._/%]{1,48}$", name), without re: `$` also matches before one final newline."""
    name = name[:-1] if name.endswith("\n") else name
    return 1 <= len(name) <= 48 and all(c in _NAME_CHARACTERS for c in name)


class PolicyFileError(KeystoreError):
    """A policy file that cannot be read as any known form: the message names the file and line."""

    def __init__(self, source: str, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}", store=source)
        self.line = line


class Policy(Record):
    """One AMS policy. Algorithm, toleration and key-reuse values are kept as written so that validation can say
    what is wrong with them; `sign_algorithm`/`encrypt_algorithm` are the values AMS would use."""

    _fields = ("name", "sign", "encrypt", "recipients", "signers", "tolerate", "key_reuse", "qmgr", "line", "form")

    def __init__(self, name: str, sign: str = "NONE", encrypt: str = "NONE", recipients: list[str] | None = None,
                 signers: list[str] | None = None, tolerate: str = "0", key_reuse: str = "0",
                 qmgr: str | None = None, line: int = 0, form: str = "setmqspl") -> None:
        self.name = name
        self.sign = sign
        self.encrypt = encrypt
        self.recipients: list[str] = [] if recipients is None else recipients
        self.signers: list[str] = [] if signers is None else signers
        self.tolerate = tolerate
        self.key_reuse = key_reuse
        self.qmgr = qmgr
        self.line = line
        self.form = form

    @property
    def sign_algorithm(self) -> str:
        return self.sign.upper()

    @property
    def encrypt_algorithm(self) -> str:
        return self.encrypt.upper()

    @property
    def signs(self) -> bool:
        return self.sign_algorithm != "NONE"

    @property
    def encrypts(self) -> bool:
        return self.encrypt_algorithm != "NONE"

    @property
    def quality(self) -> str:
        """none, integrity (signing only), privacy (signing and encryption), confidentiality (encryption only)."""
        if self.signs and self.encrypts:
            return "privacy"
        if self.signs:
            return "integrity"
        if self.encrypts:
            return "confidentiality"
        return "none"

    @property
    def tolerates(self) -> bool:
        return self.tolerate.strip().upper() in ("1", "TOLERATE", "YES")

    @property
    def key_reuse_count(self) -> int | None:
        """0 (disabled), UNLIMITED, a count, or None when the written value is not one."""
        text = self.key_reuse.strip().upper()
        if text in ("DISABLED", "0"):
            return 0
        if text in ("UNLIMITED", "*"):
            return UNLIMITED
        return int(text) if text.isdigit() and 0 < int(text) <= MAX_KEY_REUSE else None

    def as_dict(self) -> dict[str, Any]:
        reuse = self.key_reuse_count
        return {"name": self.name, "quality_of_protection": self.quality, "signature_algorithm": self.sign,
                "encryption_algorithm": self.encrypt, "recipients": list(self.recipients),
                "signers": list(self.signers), "tolerate": self.tolerates,
                "key_reuse": "UNLIMITED" if reuse == UNLIMITED else (reuse if reuse is not None else self.key_reuse),
                "line": self.line}


class Problem(FrozenValue):
    """A finding about a policy: `severity` error (AMS refuses the command, or messages will fail) or warning."""

    _fields = ("line", "policy", "severity", "message", "ams")

    def __init__(self, line: int, policy: str | None, severity: str, message: str, ams: str) -> None:
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "policy", policy)
        object.__setattr__(self, "severity", severity)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "ams", ams)  # what AMS (setmqspl, or the interceptor at put/get time) would do

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "policy": self.policy, "severity": self.severity, "message": self.message,
                "ams": self.ams}

    def text(self, source: str) -> str:
        where = f"{source}:{self.line}: " if self.line else f"{source}: "
        who = f"policy {self.policy}: " if self.policy else ""
        return f"{where}{self.severity}: {who}{self.message} ({self.ams})"


class PolicySet(Record):
    """The policies of one file, by name, in the order they were defined; `notes` are the parser's findings
    (a policy defined twice, MQSC upper-casing a value) that validation reports beside its own."""

    _fields = ("source", "policies", "notes")

    def __init__(self, source: str, policies: dict[str, Policy] | None = None, notes: list[Problem] | None = None
                 ) -> None:
        self.source = source
        self.policies: dict[str, Policy] = {} if policies is None else policies
        self.notes: list[Problem] = [] if notes is None else notes

    def get(self, name: str) -> Policy:
        try:
            return self.policies[name]
        except KeyError:
            names = ", ".join(self.policies) or "(none)"
            raise UsageError(f"no policy '{name}'; the file defines: {names}", store=self.source) from None

    def as_dict(self, qmgr: str | None = None) -> dict[str, Any]:
        return {"schema": 1, "source": self.source, "qmgr": qmgr,
                "policies": [p.as_dict() for p in self.policies.values()]}


# --- reading ----------------------------------------------------------------------------------------------------
def read_policies(path: str | Path, *, qmgr: str | None = None) -> PolicySet:
    """Read a policy file (any of the forms above). `qmgr` fills `-m &QM` placeholders."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(_MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        from keystores.errors import StoreNotFound

        raise StoreNotFound("no such policy file", store=source) from None
    except OSError as exc:
        raise KeystoreError(f"cannot read: {exc.strerror}", store=source) from None
    if len(raw) > _MAX_FILE_BYTES:
        raise PolicyFileError(source, 0, f"larger than {_MAX_FILE_BYTES // 1024 // 1024} MiB: not a policy file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PolicyFileError(source, line, "not UTF-8 text") from None
    return parse_policies(text, source=source, qmgr=qmgr)


def _file_name(path: str) -> str:
    """pathlib.PurePosixPath(path).name without importing pathlib (start-up of `ams render` and `ams check`): the
    last part that is not empty or '.'."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    return parts[-1] if parts else ""


def parse_policies(text: str, *, source: str = "<policies>", qmgr: str | None = None) -> PolicySet:
    """Parse policy text in any of the four forms into a PolicySet, in definition order."""
    result = PolicySet(source)
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line_no = index + 1
        stripped = lines[index].strip()
        if not stripped or stripped.startswith("#") or stripped.startswith("*") or _is_tool_chatter(stripped):
            index += 1
            continue
        first = stripped.split(None, 1)[0]
        if _file_name(first).lower() in ("setmqspl", "setmqspl.exe"):
            statement, index = _join(lines, index, "\\")
            _setmqspl(statement, line_no, result, qmgr)
        elif _command(stripped, ("SET", "DELETE", "DEF", "DEFINE")):
            statement, index = _join_mqsc(lines, index)
            _mqsc(statement, line_no, result)
        elif _command(stripped, ("DIS", "DISPLAY")):
            _, index = _join_mqsc(lines, index)  # the command itself; its output follows
        elif stripped.lower().startswith("policy details:"):
            index = _dspmqspl(lines, index + 1, result)
        elif _policy_attribute(stripped):
            index = _display(lines, index, result)
        else:
            raise PolicyFileError(source, line_no, f"not a policy statement: '{_short(stripped)}' (expected setmqspl, "
                                  "SET POLICY, dspmqspl or DISPLAY POLICY output)")
    return result


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The patterns of what policy files hold besides policies. A line in ASCII (every policy file we have seen) is
# matched here without `re`, which with enum, functools and collections was a third of `ams render`'s start-up
# (issue 15); any other line by the patterns themselves. tests/test_ams_policy_lean.py holds each to its pattern.
_CHATTER = (r"^(AMQ\d{4}[A-Z]?:|\d+\s*:\s|5724-H72|Starting MQSC|One MQSC|No commands have|All valid|"
            r"- - -|-{3,}|MQSC\b|End of)")
_CHATTER_TEXTS = ("5724-h72", "starting mqsc", "one mqsc", "no commands have", "all valid", "- - -", "---", "end of")
_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"  # what `\s` matches among ASCII characters
_DIGITS = "0123456789"


def _is_tool_chatter(line: str) -> bool:
    """runmqsc banners, echoed command numbers, AMQ messages, dspmqspl separators: not policy content."""
    if not line.isascii():
        import re

        return bool(re.match(_CHATTER, line, re.IGNORECASE))
    lower = line.lower()
    if lower.startswith(_CHATTER_TEXTS):
        return True
    if lower.startswith("amq") and len(lower) >= 8 and all(c in _DIGITS for c in lower[3:7]):
        rest = lower[7:]
        return rest.startswith(":") or (rest[:1].isalpha() and rest[1:2] == ":")
    if lower.startswith("mqsc"):
        return not (lower[4:5].isalnum() or lower[4:5] == "_")
    digits = len(lower) - len(lower.lstrip(_DIGITS))
    if digits:
        rest = lower[digits:].lstrip(_ASCII_SPACE)
        return rest[:1] == ":" and rest[1:2] != "" and rest[1] in _ASCII_SPACE
    return False


def _command(line: str, verbs: tuple[str, ...]) -> bool:
    r"""re.match(r"(?i)^(VERB|...)\s+POLICY\b", line) for `verbs`."""
    if not line.isascii():
        import re

        return bool(re.match(rf"(?i)^({'|'.join(verbs)})\s+POLICY\b", line))
    upper = line.upper()
    for verb in verbs:
        rest = upper[len(verb):]
        if upper.startswith(verb) and rest[:1] != "" and rest[0] in _ASCII_SPACE:
            rest = rest.lstrip(_ASCII_SPACE)
            if rest.startswith("POLICY") and not (rest[6:7].isalnum() or rest[6:7] == "_"):
                return True
    return False


def _policy_attribute(line: str) -> bool:
    r"""re.match(r"(?i)^POLICY\s*\(", line): DISPLAY POLICY's output."""
    if not line.isascii():
        import re

        return bool(re.match(r"(?i)^POLICY\s*\(", line))
    upper = line.upper()
    return upper.startswith("POLICY") and upper[6:].lstrip(_ASCII_SPACE).startswith("(")


def _join(lines: list[str], index: int, mark: str) -> tuple[str, int]:
    """A statement spread over lines that end with `mark`; returns it and the index after it."""
    parts = []
    while index < len(lines):
        current = lines[index].rstrip()
        index += 1
        if current.endswith(mark):
            parts.append(current[: -len(mark)])
            continue
        parts.append(current)
        break
    return " ".join(parts), index


def _join_mqsc(lines: list[str], index: int) -> tuple[str, int]:
    """MQSC continuation: a trailing `-` keeps the next line as is, a trailing `+` drops its leading blanks."""
    text = ""
    while index < len(lines):
        current = lines[index].rstrip()
        index += 1
        if current.endswith("-"):
            text += current[:-1]
            continue
        if current.endswith("+"):
            text += current[:-1]
            while index < len(lines) and not lines[index].strip():
                index += 1
            if index < len(lines):
                lines[index] = lines[index].lstrip()
            continue
        text += current
        break
    return text, index


_FLAGS = {"-m": "qmgr", "-p": "name", "-policy": "name", "-s": "sign", "-e": "encrypt", "-r": "recipients",
          "-a": "signers", "-t": "tolerate", "-c": "key_reuse"}


def _setmqspl(statement: str, line: int, result: PolicySet, qmgr: str | None) -> None:
    source = result.source
    try:
        tokens = shell_words(statement)
    except ValueError as exc:
        raise PolicyFileError(source, line, f"setmqspl: {exc} (a quote is not closed)") from None
    values: dict[str, Any] = {"recipients": [], "signers": []}
    remove = False
    position = 1
    while position < len(tokens):
        flag = tokens[position]
        position += 1
        if flag == "-remove":
            remove = True
            continue
        field_name = _FLAGS.get(flag)
        if field_name is None:
            if flag.startswith("-") and flag.lower() in _FLAGS:
                raise PolicyFileError(source, line, f"setmqspl: flag '{flag}' must be written '{flag.lower()}'")
            known = "-m, -p/-policy, -s, -e, -r, -a, -t, -c, -remove"
            raise PolicyFileError(source, line, f"setmqspl: unknown flag '{_short(flag, 30)}' (flags are {known})")
        if position >= len(tokens) or (tokens[position].startswith("-") and tokens[position] in (*_FLAGS,
                                                                                               "-remove")):
            raise PolicyFileError(source, line, f"setmqspl: flag {flag} needs a value")
        value = tokens[position]
        position += 1
        if field_name in ("recipients", "signers"):
            values[field_name].append(value)
        elif field_name in values:
            raise PolicyFileError(source, line, f"setmqspl: {flag} is given twice")
        else:
            values[field_name] = value
    name = values.pop("name", None)
    if name is None:
        raise PolicyFileError(source, line, "setmqspl: no policy name (-p NAME)")
    written_qmgr = values.pop("qmgr", None)
    if written_qmgr is None:
        result.notes.append(Problem(line, name, "error", "setmqspl without -m QMGR",
                                    "setmqspl refuses it: -m is mandatory"))
    elif written_qmgr.startswith(("&", "$")):
        written_qmgr = qmgr  # a placeholder: filled from the queue manager asked for
    if remove:
        if name not in result.policies:
            result.notes.append(Problem(line, name, "warning", "removes a policy this file has not defined",
                                        "setmqspl -remove fails when the queue manager has no such policy"))
        result.policies.pop(name, None)
        return
    _define(result, Policy(name=name, qmgr=written_qmgr, line=line, form="setmqspl", **values), line)


def _define(result: PolicySet, policy: Policy, line: int) -> None:
    earlier = result.policies.pop(policy.name, None)
    if earlier is not None:
        result.notes.append(Problem(line, policy.name, "warning", f"replaces the policy defined on line "
                                    f"{earlier.line}", "each setmqspl/SET POLICY ACTION(REPLACE) replaces the "
                                    "whole policy: the earlier definition is lost"))
    result.policies[policy.name] = policy


def mqsc_words(text: str, *, source: str, line: int) -> list[tuple[str, str | None, bool]]:
    """MQSC `KEYWORD(value)` and bare `KEYWORD` tokens: (KEYWORD, value or None, whether the value was quoted).
    Quoted values keep their case with `''` read as `'`; parentheses nest outside quotes."""
    words: list[tuple[str, str | None, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace() or text[i] == ",":
            i += 1
            continue
        import re  # here: MQSC statements only

        match = re.match(r"[A-Za-z0-9_.*]+", text[i:])
        if not match:
            raise PolicyFileError(source, line, f"unexpected '{text[i]}' in '{_short(text.strip())}'")
        keyword = match.group(0).upper()
        i += len(match.group(0))
        j = i
        while j < n and text[j] == " ":
            j += 1
        if j >= n or text[j] != "(":
            words.append((keyword, None, False))
            continue
        i = j + 1
        value, quoted, depth = [], False, 0
        while True:
            if i >= n:
                raise PolicyFileError(source, line, f"{keyword}( is not closed")
            char = text[i]
            if char == "'":
                end = i + 1
                chunk = []
                while True:
                    if end >= n:
                        raise PolicyFileError(source, line, f"a quote in {keyword}(..) is not closed")
                    if text[end] == "'":
                        if end + 1 < n and text[end + 1] == "'":
                            chunk.append("'")
                            end += 2
                            continue
                        break
                    chunk.append(text[end])
                    end += 1
                value.append("".join(chunk))
                quoted = True
                i = end + 1
                continue
            if char == "(":
                depth += 1
            elif char == ")":
                if depth == 0:
                    i += 1
                    break
                depth -= 1
            value.append(char)
            i += 1
        joined = "".join(value)
        words.append((keyword, joined if quoted else joined.strip(), quoted))
    return words


_MQSC_KEYWORDS = {"SIGNALG": "sign", "ENCALG": "encrypt", "RECIP": "recipients", "SIGNER": "signers",
                  "KEYREUSE": "key_reuse"}


def _mqsc(statement: str, line: int, result: PolicySet) -> None:
    source = result.source
    words = mqsc_words(statement, source=source, line=line)
    verb = words[0][0]
    if len(words) < 2 or words[1][0] != "POLICY" or words[1][1] is None:
        raise PolicyFileError(source, line, f"{verb} POLICY needs a policy name: POLICY(name)")
    name, quoted = words[1][1], words[1][2]
    if not quoted:
        name = name.upper()
    if verb in ("DEF", "DEFINE"):
        raise PolicyFileError(source, line, "there is no DEFINE POLICY in MQSC: use SET POLICY(name)")
    if verb == "DELETE":
        if result.policies.pop(name, None) is None:
            result.notes.append(Problem(line, name, "warning", "deletes a policy this file has not defined",
                                        "DELETE POLICY fails when the queue manager has no such policy"))
        return
    values: dict[str, Any] = {"recipients": [], "signers": []}
    action = "REPLACE"
    for keyword, value, was_quoted in words[2:]:
        if keyword in ("ENFORCE", "TOLERATE") and value is None:
            values["tolerate"] = "1" if keyword == "TOLERATE" else "0"
            continue
        if keyword == "ACTION" and value is not None:
            action = value.upper()
            if action not in ("REPLACE", "ADD", "REMOVE"):
                raise PolicyFileError(source, line, f"ACTION({value}): use REPLACE, ADD or REMOVE")
            continue
        field_name = _MQSC_KEYWORDS.get(keyword)
        if field_name is None or value is None:
            raise PolicyFileError(source, line, f"SET POLICY: unknown or incomplete parameter '{keyword}' (use "
                                  "SIGNALG, ENCALG, RECIP, SIGNER, ENFORCE|TOLERATE, KEYREUSE, ACTION)")
        if not was_quoted and value != value.upper():
            if field_name in ("recipients", "signers"):
                result.notes.append(Problem(line, name, "warning", f"{keyword}({value}) is not quoted: MQSC "
                                            f"upper-cases it to {value.upper()}", "the policy holds the "
                                            "upper-cased DN, which matches no certificate whose DN has lower case"))
            value = value.upper()
        if field_name in ("recipients", "signers"):
            values[field_name].append(value)
        else:
            values[field_name] = value
    if action == "REPLACE" or name not in result.policies:
        if action == "REMOVE":
            result.notes.append(Problem(line, name, "warning", "ACTION(REMOVE) on a policy this file has not "
                                        "defined", "the queue manager removes the DNs from its own policy, if any"))
        _define(result, Policy(name=name, line=line, form="mqsc", **values), line)
        return
    policy = result.policies[name]
    for key in ("sign", "encrypt", "tolerate", "key_reuse"):
        if key in values:
            setattr(policy, key, values[key])
    for key in ("recipients", "signers"):
        current: list[str] = getattr(policy, key)
        if action == "ADD":
            current += [dn for dn in values[key] if dn not in current]
        else:
            setattr(policy, key, [dn for dn in current if dn not in values[key]])


_DSP_KEYS = {"policy name": "name", "quality of protection": None, "signature algorithm": "sign",
             "encryption algorithm": "encrypt", "signer dns": "signers", "recipient dns": "recipients",
             "toleration": "tolerate", "key reuse count": "key_reuse"}


def _dspmqspl(lines: list[str], index: int, result: PolicySet) -> int:
    """One `Policy Details:` block of dspmqspl output; returns the index after it."""
    start = index
    values: dict[str, Any] = {"recipients": [], "signers": []}
    listing: str | None = None
    while index < len(lines):
        stripped = lines[index].strip()
        if stripped.lower().startswith("policy details:") or stripped.startswith("- - -"):
            break
        index += 1
        if not stripped:
            continue
        key, colon, value = stripped.partition(":")
        field_name = _DSP_KEYS.get(key.strip().lower(), "") if colon else ""
        if field_name == "" and listing is not None:
            values[listing].append(stripped)
            continue
        if field_name == "":
            raise PolicyFileError(result.source, index, f"dspmqspl output: unexpected line '{_short(stripped)}'")
        listing = None
        value = value.strip()
        if field_name in ("signers", "recipients"):
            if value and value != "-":
                values[field_name].append(value)
            elif not value:
                listing = field_name
        elif field_name:
            values[field_name] = value
    name = values.pop("name", None)
    if not name:
        raise PolicyFileError(result.source, start, "dspmqspl output: a block without 'Policy name:'")
    _define(result, Policy(name=name, line=start, form="dspmqspl", **values), start)
    return index


def _display(lines: list[str], index: int, result: PolicySet) -> int:
    """DISPLAY POLICY output: POLICY(..) and the attribute columns that follow it, up to the next POLICY(..),
    a blank line or an AMQ message."""
    start = index
    parts = [lines[index]]
    index += 1
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped or _is_tool_chatter(stripped) or _policy_attribute(stripped):
            break
        parts.append(stripped)
        index += 1
    words = mqsc_words(" ".join(parts), source=result.source, line=start + 1)
    values: dict[str, Any] = {"recipients": [], "signers": []}
    name = words[0][1] or ""
    for keyword, value, _ in words[1:]:
        if keyword in ("ENFORCE", "TOLERATE") and value is None:
            values["tolerate"] = "1" if keyword == "TOLERATE" else "0"
        elif keyword in _MQSC_KEYWORDS and value is not None:
            if _MQSC_KEYWORDS[keyword] in ("recipients", "signers"):
                if value:
                    values[_MQSC_KEYWORDS[keyword]].append(value)
            else:
                values[_MQSC_KEYWORDS[keyword]] = value
        elif keyword in ("ALTDATE", "ALTTIME", "ACTION"):
            continue
        else:
            raise PolicyFileError(result.source, start + 1, f"DISPLAY POLICY output: unknown attribute '{keyword}'")
    _define(result, Policy(name=name, line=start + 1, form="display", **values), start + 1)
    return index


# --- checking ---------------------------------------------------------------------------------------------------
def validate(policies: PolicySet) -> list[Problem]:
    """Every problem with the policies by IBM's rules, with its line and what AMS would do; the parser's own
    notes first. Certificates are the doctor's job (keystores.ams.doctor)."""
    problems = list(policies.notes)
    for policy in policies.policies.values():
        problems += validate_policy(policy)
    return sorted(problems, key=lambda p: p.line)


def validate_policy(policy: Policy) -> list[Problem]:
    found: list[Problem] = []

    def add(severity: str, message: str, ams: str) -> None:
        found.append(Problem(policy.line, policy.name, severity, message, ams))

    if not _is_object_name(policy.name):
        add("error", f"'{policy.name}' is not an MQ queue name (1..48 of A-Z a-z 0-9 . / _ %)",
            "the command is refused: the policy name is the name of the queue it protects")
    for flag, value, allowed in (("-s", policy.sign, SIGN_ALGORITHMS), ("-e", policy.encrypt, ENCRYPT_ALGORITHMS)):
        if value not in allowed:
            hint = f"; write {value.upper()}" if value.upper() in allowed else ""
            add("error", f"{flag} {value} is not one of {', '.join(allowed)} (upper case){hint}",
                "setmqspl refuses the command")
        elif value in DEPRECATED:
            add("warning", f"{value} is deprecated", "refused when the queue manager runs in FIPS mode; choose "
                + ("SHA256 or stronger" if flag == "-s" else "AES128 or AES256"))
    if policy.encrypts and not policy.recipients:
        add("error", f"encryption {policy.encrypt_algorithm} without a recipient (-r DN)",
            "setmqspl refuses the command: an encryption algorithm needs at least one recipient")
    if policy.recipients and not policy.encrypts:
        add("error", "recipients (-r) without an encryption algorithm",
            "setmqspl refuses the command: recipients are only for encrypted policies")
    if policy.signers and not policy.signs:
        add("error", "signers (-a) without a signature algorithm",
            "setmqspl refuses the command: accepted signers need a signature algorithm")
    if policy.tolerate.strip() not in ("0", "1"):
        add("error", f"-t {policy.tolerate}: toleration is 0 or 1", "setmqspl refuses the command")
    reuse = policy.key_reuse_count
    if reuse is None:
        add("error", f"-c {policy.key_reuse}: key reuse is 0 (disabled), 1..{MAX_KEY_REUSE:,} or unlimited",
            "setmqspl refuses the command")
    elif reuse != 0 and policy.quality != "confidentiality":
        add("warning", f"key reuse {policy.key_reuse} on a {policy.quality} policy",
            "key reuse applies only to confidentiality (-e with -s NONE); it is ignored here")
    if policy.quality == "none":
        add("warning", "neither signs nor encrypts", "messages on this queue flow unprotected")
    for flag, dns in (("-r", policy.recipients), ("-a", policy.signers)):
        seen: set[str] = set()
        for dn in dns:
            found += [Problem(policy.line, policy.name, p[0], p[1], p[2]) for p in dn_text_problems(flag, dn)]
            if dn in seen:
                add("warning", f"{flag} '{dn}' is given twice", "the duplicate is ignored")
            seen.add(dn)
    if policy.tolerates:
        add("warning", "tolerates unprotected messages (-t 1)", "a getter accepts messages put without protection")
    return found


def dn_text_problems(flag: str, dn: str) -> list[tuple[str, str, str]]:
    """(severity, message, what AMS does) for a policy DN's text: syntax, attribute-name case, separators."""
    from keystores.ams.dnmatch import lower_case_names, semicolon_separated
    from keystores.pki.dn import parse_dn

    try:
        parsed = parse_dn(dn)
    except UsageError as exc:
        return [("error", f"{flag} '{dn}': {exc.reason}", "no certificate can match it")]
    problems = []
    lower = lower_case_names(dn)
    if lower:
        problems.append(("error", f"{flag} '{dn}': attribute names must be upper case ({', '.join(lower)})",
                         "AMS compares the text: it matches no certificate"))
    if semicolon_separated(dn):
        problems.append(("error", f"{flag} '{dn}': parts are separated by ';'",
                         "AMS needs commas between parts: it matches no certificate"))
    if not any(attr.oid == "2.5.4.3" for attr in parsed.attributes()):
        problems.append(("warning", f"{flag} '{dn}' has no CN", "it can match only a certificate without a CN"))
    return problems


# --- writing ----------------------------------------------------------------------------------------------------
def render(policies: PolicySet, form: str, *, qmgr: str | None = None) -> str:
    """The policy set as setmqspl commands, MQSC SET POLICY commands, dspmqspl-style text or JSON, for `qmgr`
    (setmqspl keeps a policy's own -m, else writes `&QM` for a later fill when none is given)."""
    if form == "json":  # json.dumps(..., indent=2) of str, int, None and lists, without importing json (start-up)
        from keystores.json_output import dumps

        return dumps(policies.as_dict(qmgr)) + "\n"
    writer = {"setmqspl": _as_setmqspl, "mqsc": _as_mqsc, "dspmqspl": _as_dspmqspl}.get(form)
    if writer is None:
        raise UsageError(f"unknown policy form '{form}': use {', '.join(FORMS)}")
    head = f"* AMS policies for queue manager {qmgr} (runmqsc {qmgr})\n" if form == "mqsc" and qmgr else ""
    return head + "".join(writer(p, qmgr) for p in policies.policies.values())


def _shell_quote(value: str) -> str:
    """Double quotes as IBM's examples write DNs; single quotes (shlex) when the value holds what a shell would
    expand or unescape inside double quotes ($, `, \\)."""
    if value and all(c in _NAME_CHARACTERS or c in "&-" for c in value):
        return value
    if any(c in "$`\\" for c in value):
        return "'" + value.replace("'", "'\"'\"'") + "'"  # shlex.quote of a value it must quote
    return '"' + value.replace('"', '\\"') + '"'


def _as_setmqspl(policy: Policy, qmgr: str | None) -> str:
    words = ["setmqspl", "-m", _shell_quote(qmgr or policy.qmgr or "&QM"), "-p", _shell_quote(policy.name),
             "-s", policy.sign, "-e", policy.encrypt]
    words += [w for dn in policy.recipients for w in ("-r", _shell_quote(dn))]
    words += [w for dn in policy.signers for w in ("-a", _shell_quote(dn))]
    if policy.tolerates:
        words += ["-t", "1"]
    if policy.key_reuse_count not in (0, None):
        words += ["-c", "*" if policy.key_reuse_count == UNLIMITED else str(policy.key_reuse_count)]
    return " ".join(words) + "\n"


def _mqsc_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _as_mqsc(policy: Policy, qmgr: str | None) -> str:
    parts = [f"SET POLICY({_mqsc_quote(policy.name)})", f"SIGNALG({policy.sign})", f"ENCALG({policy.encrypt})"]
    parts += [f"RECIP({_mqsc_quote(dn)})" for dn in policy.recipients]
    parts += [f"SIGNER({_mqsc_quote(dn)})" for dn in policy.signers]
    parts.append("TOLERATE" if policy.tolerates else "ENFORCE")
    reuse = policy.key_reuse_count
    parts.append(f"KEYREUSE({'DISABLED' if reuse in (0, None) else 'UNLIMITED' if reuse == UNLIMITED else reuse})")
    parts.append("ACTION(REPLACE)")
    return " +\n       ".join(parts) + "\n"


def _as_dspmqspl(policy: Policy, qmgr: str | None) -> str:
    def listing(dns: list[str]) -> str:
        return " -\n" if not dns else "\n" + "".join(f"{dn}\n" for dn in dns)

    reuse = policy.key_reuse_count
    return ("Policy Details:\n"
            f"Policy name: {policy.name}\n"
            f"Quality of protection: {policy.quality.upper()}\n"
            f"Signature algorithm: {policy.sign}\n"
            f"Encryption algorithm: {policy.encrypt}\n"
            f"Signer DNs:{listing(policy.signers)}"
            f"Recipient DNs:{listing(policy.recipients)}"
            f"Toleration: {1 if policy.tolerates else 0}\n"
            f"Key Reuse Count: {'UNLIMITED' if reuse == UNLIMITED else reuse or 0}\n"
            "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -\n")


_SHELL_SPACE, _QUOTES = " \t\r\n", "'\""


def shell_words(text: str) -> list[str]:
    """shlex.split(text, comments=True, posix=True): its tokenizer (shlex.shlex.read_token in POSIX mode with
    whitespace_split, CPython 3.11) transcribed without the shlex module, which imports re (start-up, issue 15;
    tests/test_ams_policy_lean.py holds it to shlex.split). ValueError as shlex raises it."""
    words: list[str] = []
    state: str | None = " "
    at, end = 0, len(text)
    while True:
        token, quoted, escaped_state = "", False, " "
        while True:
            char = text[at] if at < end else ""
            at += 1 if at < end else 0
            if state is None:
                token = ""
                break
            if state in (" ", "a"):  # between words, in a word (shlex's two states, merged: between words no token
                if not char:  # is open and nothing was quoted, so what differs between them never applies there)
                    state = None
                    break
                if char in _SHELL_SPACE or char == "#":
                    if char == "#":  # a comment runs to the end of its line
                        newline = text.find("\n", at)
                        at = end if newline < 0 else newline + 1
                    state = " "
                    if token or quoted:
                        break
                    continue
                if char == "\\":
                    escaped_state, state = "a", char
                elif char in _QUOTES:
                    state = char
                else:
                    token, state = token + char, "a"
            elif state in _QUOTES:
                quoted = True
                if not char:
                    raise ValueError("No closing quotation")
                if char == state:
                    state = "a"
                elif char == "\\" and state == '"':
                    escaped_state, state = state, char
                else:
                    token += char
            elif state == "\\":
                if not char:
                    raise ValueError("No escaped character")
                if escaped_state in _QUOTES and char != state and char != escaped_state:
                    token += state
                token += char
                state = escaped_state
        if not quoted and token == "":
            return words
        words.append(token)
