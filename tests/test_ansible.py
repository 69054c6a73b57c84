"""The Ansible collection (ansible_collections/keystores/keystores) judged by ansible-core itself: real playbooks run
with `ansible-playbook` against localhost (`connection: local`, this venv's Python) and against a second inventory
host on the same machine whose interpreter is another Python (a plain venv with keystores installed from the
wheel built here). The collection is installed from the tarball `ansible-galaxy collection build` makes.

Proves: first run changed, second run ok with every file byte for byte the same; check mode writes nothing and
shows the diff; a wrong password fails the task with our message, rc 3 and error_kind; nothing secret in -vvv
output; a host without keystores fails with a clear message; the module documentation agrees with the argument
specs (what ansible-test's validate-modules checks; the real `ansible-test sanity` runs with --long).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from helpers import ca, certificate, key_pair_entry, rsa_key, trusted_entry

import keystores
from softhsm import softhsm  # noqa: F401  (pytest fixture)

ROOT = Path(__file__).resolve().parents[1]
COLLECTION = ROOT / "ansible_collections" / "keystores" / "keystores"
BIN = Path(sys.executable).parent
MODULES = ("entry", "store", "info")
STORE_PW = "Kdb-Pw-7c1e-Marker"  # distinctive, so a leak in any output is found by a plain search
JKS_PW = "Jks-Pw-42af-Marker"
KEY_PW = "Key-Pw-93bd-Marker"


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, **kwargs)


@pytest.fixture(scope="session")
def collections_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The collection built into a tarball and installed from it, as a user would."""
    work = tmp_path_factory.mktemp("galaxy")
    built = _run([str(BIN / "ansible-galaxy"), "collection", "build", str(COLLECTION), "--output-path", str(work)],
                 cwd=work)
    assert built.returncode == 0, built.stderr
    tarball = work / "keystores-keystores-0.1.0.tar.gz"
    assert tarball.is_file()
    installed = _run([str(BIN / "ansible-galaxy"), "collection", "install", "-p", str(work / "collections"),
                      str(tarball)], cwd=work)
    assert installed.returncode == 0, installed.stderr
    assert (work / "collections/ansible_collections/keystores/keystores/plugins/modules/entry.py").is_file()
    return work / "collections"


def _base_python() -> str:
    """Another interpreter than this venv's: the system's python3 when it is 3.11 or newer, else our base one."""
    system = shutil.which("python3", path="/usr/bin:/usr/local/bin")
    if system and _run([system, "-c", "import sys, venv; assert sys.version_info >= (3, 11)"]).returncode == 0:
        return system
    return getattr(sys, "_base_executable", sys.executable)


@pytest.fixture(scope="session")
def other_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A plain venv (no pip of its own, nothing of ours) with keystores installed from a wheel built here and its
    dependencies from the pip cache or PyPI: the Python of the second inventory host."""
    work = tmp_path_factory.mktemp("other-python")
    wheel = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT), "-w", str(work / "wheel")],
                 cwd=work)
    assert wheel.returncode == 0, wheel.stderr
    made = _run([_base_python(), "-m", "venv", "--without-pip", str(work / "venv")], cwd=work)
    assert made.returncode == 0, made.stderr
    python = work / "venv" / "bin" / "python"
    wheels = list((work / "wheel").glob("keystores-*.whl"))
    installed = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", str(wheels[0])],
                     cwd=work)
    assert installed.returncode == 0, installed.stderr
    where = _run([str(python), "-c", "import keystores, sys; print(keystores.__file__); print(sys.prefix)"], cwd=work)
    assert where.returncode == 0, where.stderr
    assert str(work / "venv") in where.stdout and str(ROOT) not in where.stdout
    return str(python)


@pytest.fixture(scope="session")
def material(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, a queue manager's key, its certificate and the renewed one (same key, new serial), a second CA."""
    folder = tmp_path_factory.mktemp("material")
    ca_key, ca_cert = ca(0)
    _, other_ca = ca(1)
    key = rsa_key(7)
    far = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
    issued = certificate(key, "QM1", ca_key, ca_cert, serial=1001, not_after=far)
    renewed = certificate(key, "QM1", ca_key, ca_cert, serial=1002, not_after=far + dt.timedelta(days=365))
    pem = serialization.Encoding.PEM
    files = {
        "ca": ca_cert.public_bytes(pem),
        "ca2": other_ca.public_bytes(pem),
        "cert": issued.public_bytes(pem),
        "renewed": renewed.public_bytes(pem),
        "key": key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                 serialization.BestAvailableEncryption(KEY_PW.encode())),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / f"{name}.pem"
        paths[name].write_bytes(data)
    return paths


class Ansible:
    """ansible-playbook over an inventory of localhost and `other`, both `connection: local`."""

    def __init__(self, work: Path, collections: Path, other: str) -> None:
        self.work = work
        self.inventory = work / "inventory.ini"
        self.inventory.write_text(
            f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
            f"other ansible_connection=local ansible_python_interpreter={other}\n"
            f"bare ansible_connection=local ansible_python_interpreter={_base_python()}\n")
        self.env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections), "ANSIBLE_NOCOLOR": "1",
                    "ANSIBLE_LOCAL_TEMP": str(work / "tmp"), "ANSIBLE_REMOTE_TEMP": str(work / "tmp"),
                    "ANSIBLE_DEPRECATION_WARNINGS": "0", "ANSIBLE_SYSTEM_WARNINGS": "0",
                    "ANSIBLE_HOME": str(work / "ansible-home"), "PYTHONWARNINGS": "ignore",
                    "ANSIBLE_PIPELINING": "1"}
        self.env.pop("PYTHONPATH", None)

    def play(self, playbook: str, *args: str, limit: str = "localhost,other") -> subprocess.CompletedProcess[str]:
        path = self.work / "playbook.yml"
        path.write_text(textwrap.dedent(playbook))
        return _run([str(BIN / "ansible-playbook"), "-i", str(self.inventory), "--limit", limit, str(path), *args],
                    cwd=self.work, env=self.env)


def recap(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, int]]:
    found = {}
    for host, counts in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", result.stdout, re.MULTILINE):
        found[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)}
    assert found, result.stdout + result.stderr
    return found


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def ansible(tmp_path: Path, collections_path: Path, other_python: str) -> Ansible:
    return Ansible(tmp_path, collections_path, other_python)


def estate(work: Path, material: dict[str, Path], cert: str = "cert") -> str:
    """The seed's jobs on one host: a queue manager's .kdb with stash and its certificate as default, the CA in a
    Java truststore, a PKCS#12 and an NSS database, then an expiry report."""
    return f"""
    - hosts: all
      gather_facts: false
      vars:
        dir: {work}/{{{{ inventory_hostname }}}}
      tasks:
        - ansible.builtin.file: {{path: "{{{{ dir }}}}/nssdb", state: directory, mode: "0700"}}
        - name: the queue manager's key database, with its stash
          keystores.keystores.store:
            store: "{{{{ dir }}}}/key.kdb"
            password: {STORE_PW}
            stash: true
            mode: "0600"
        - name: roll the queue-manager certificate in and make it the default
          keystores.keystores.entry:
            store: "{{{{ dir }}}}/key.kdb"
            label: ibmwebspheremqqm1
            certificate_path: {material[cert]}
            private_key_path: {material['key']}
            private_key_password: {KEY_PW}
            chain_path: [{material['ca']}]
            default: true
        - name: the CA in every truststore
          keystores.keystores.entry:
            store: "{{{{ item }}}}"
            password: "{{{{ '{JKS_PW}' if not item.startswith('sql:') else omit }}}}"
            label: corp-root
            certificate: "{{{{ lookup('ansible.builtin.file', '{material['ca']}') }}}}"
          loop: ["{{{{ dir }}}}/trust.jks", "{{{{ dir }}}}/trust.p12", "sql:{{{{ dir }}}}/nssdb"]
        - name: expiry report
          keystores.keystores.info:
            stores:
              - store: "{{{{ dir }}}}/key.kdb"
              - store: "{{{{ dir }}}}/trust.jks"
                password: {JKS_PW}
            within: 30d
            at: "2098-12-20T00:00:00Z"
            skip: [weak-protection]
          register: report
        - ansible.builtin.assert:
            that:
              - report.stores | length == 2
              - report.audit.findings | selectattr('check', 'equalto', 'expiring') | list | length == 1
              - (report.audit.findings | first).label == 'ibmwebspheremqqm1'
              - report.stores[1].entries[0].label == 'corp-root'
    """


def test_first_run_changes_second_run_is_ok_and_rewrites_nothing(ansible: Ansible, material: dict[str, Path]) -> None:
    first = ansible.play(estate(ansible.work, material))
    counts = recap(first)
    assert set(counts) == {"localhost", "other"}, first.stdout
    for host in ("localhost", "other"):
        assert counts[host]["failed"] == 0 and counts[host]["changed"] == 4, first.stdout
    on_disk = digests(ansible.work / "other")
    second = ansible.play(estate(ansible.work, material))
    for host, count in recap(second).items():
        assert count["changed"] == 0 and count["failed"] == 0, (host, second.stdout)
    assert digests(ansible.work / "other") == on_disk
    # What the playbook made is what keystores (and the stash) read back, on the other interpreter's host too.
    kdb = ansible.work / "other" / "key.kdb"
    assert oct(kdb.stat().st_mode & 0o777) == "0o600" and kdb.with_suffix(".sth").is_file()
    with keystores.open_store(kdb) as store:  # opened with the stash the store module wrote
        entry = store.get("ibmwebspheremqqm1")
        assert entry.default and entry.certificate.serial_number == 1001 and len(entry.chain) == 2
    with keystores.open_store(ansible.work / "localhost" / "trust.p12", password=JKS_PW) as store:
        assert [e.label for e in store] == ["corp-root"] and store.get("corp-root").trust is not None
    with keystores.open_store(f"sql:{ansible.work / 'other' / 'nssdb'}") as store:
        assert store.get("corp-root").trust is not None


def test_check_mode_writes_nothing_and_shows_the_diff(ansible: Ansible, material: dict[str, Path]) -> None:
    dry = ansible.play(estate(ansible.work, material), "--check", limit="localhost")
    assert recap(dry)["localhost"]["changed"] == 4
    assert not (ansible.work / "localhost").exists()
    assert ansible.play(estate(ansible.work, material), limit="localhost").returncode == 0
    before = digests(ansible.work / "localhost")
    renewed = estate(ansible.work, material, cert="renewed")
    shown = ansible.play(renewed, "--check", "--diff", limit="localhost")
    assert recap(shown)["localhost"]["changed"] == 1, shown.stdout
    assert "-serial: 3e9" in shown.stdout and "+serial: 3ea" in shown.stdout  # 1001 -> 1002
    assert "+default: True" not in shown.stdout  # it was and stays the default
    assert digests(ansible.work / "localhost") == before
    done = ansible.play(renewed, "--diff", limit="localhost")
    assert recap(done)["localhost"]["changed"] == 1, done.stdout
    with keystores.open_store(ansible.work / "localhost" / "key.kdb", password=STORE_PW) as store:
        entry = store.get("ibmwebspheremqqm1")
        assert entry.certificate.serial_number == 1002 and entry.default


def test_removal_and_trust_flags_are_idempotent(ansible: Ansible, material: dict[str, Path]) -> None:
    playbook = f"""
    - hosts: localhost
      gather_facts: false
      vars:
        later: false
      tasks:
        - keystores.keystores.entry:
            store: {ansible.work}/ca.kdb
            password: {STORE_PW}
            label: "{{{{ item.label }}}}"
            certificate_path: "{{{{ item.path }}}}"
            trusted: "{{{{ item.trusted }}}}"
            state: "{{{{ 'absent' if later and item.label == 'root1' else 'present' }}}}"
          loop:
            - {{label: root1, path: {material['ca']}, trusted: true}}
            - {{label: root2, path: {material['ca2']}, trusted: "{{{{ later }}}}"}}
    """
    assert recap(ansible.play(playbook, limit="localhost"))["localhost"]["changed"] == 1
    with keystores.open_store(ansible.work / "ca.kdb", password=STORE_PW) as store:
        assert store.labels() == ["root1", "root2"] and store.get("root2").trust is None
    later = ansible.play(playbook, "-e", "later=true", "--diff", limit="localhost")
    assert recap(later)["localhost"]["changed"] == 1
    assert "-trusted: False" in later.stdout and "+trusted: True" in later.stdout  # root2 now trusted
    assert "-label: root1" in later.stdout  # root1 removed
    with keystores.open_store(ansible.work / "ca.kdb", password=STORE_PW) as store:
        assert store.labels() == ["root2"] and store.get("root2").trust is not None
    before = digests(ansible.work)
    again = ansible.play(playbook, "-e", "later=true", limit="localhost")
    assert recap(again)["localhost"]["changed"] == 0, again.stdout
    assert digests(ansible.work) == before


def test_store_converts_rotates_passwords_and_makes_v6_databases_idempotently(ansible: Ansible) -> None:
    with keystores.open_store(ansible.work / "src.kdb", password=STORE_PW, create=True) as kdb:
        kdb.add(key_pair_entry("qm1", default=True))
        kdb.add(trusted_entry("root"))
    with keystores.open_store(ansible.work / "rot.jks", password=JKS_PW, create=True) as jks:
        jks.add(trusted_entry("root"))
    playbook = f"""
    - hosts: localhost
      gather_facts: false
      tasks:
        - keystores.keystores.store:
            store: {ansible.work}/client.p12
            password: {JKS_PW}
            source: {ansible.work}/src.kdb
            source_password: {STORE_PW}
        - keystores.keystores.store:
            store: {ansible.work}/rot.jks
            password: {JKS_PW}
            new_password: New-{JKS_PW}
        - keystores.keystores.store:
            store: {ansible.work}/v6.kdb
            password: {STORE_PW}
            kdb_version: 6
            stash: true
    """
    first = ansible.play(playbook, "--diff", limit="localhost")
    assert recap(first)["localhost"]["changed"] == 3, first.stdout
    assert "+entry: qm1" in first.stdout
    before = digests(ansible.work)
    again = ansible.play(playbook, limit="localhost")
    assert recap(again)["localhost"]["changed"] == 0, again.stdout
    assert digests(ansible.work) == before
    with keystores.open_store(ansible.work / "client.p12", password=JKS_PW) as p12:
        assert sorted(e.label for e in p12) == ["qm1", "root"]
    with keystores.open_store(ansible.work / "rot.jks", password=f"New-{JKS_PW}") as jks:
        assert jks.labels() == ["root"]
    with keystores.open_store(ansible.work / "v6.kdb") as v6:  # by its stash
        assert "v6" in v6.protection()["format"].text


def test_wrong_password_fails_with_our_message_and_nothing_secret_shows(ansible: Ansible,
                                                                        material: dict[str, Path]) -> None:
    """Also: the `bare` host's interpreter has no keystores, and its task fails saying so."""
    key_body = material["key"].read_text().splitlines()[1]
    playbook = f"""
    - hosts: localhost,other,bare
      gather_facts: false
      vars:
        dir: {ansible.work}/{{{{ inventory_hostname }}}}
      tasks:
        - ansible.builtin.file: {{path: "{{{{ dir }}}}", state: directory, mode: "0700"}}
        - keystores.keystores.entry:
            store: "{{{{ dir }}}}/trust.jks"
            password: {JKS_PW}
            label: corp-root
            certificate_path: {material['ca']}
        - keystores.keystores.entry:
            store: "{{{{ dir }}}}/trust.jks"
            password: Not-The-{JKS_PW}
            label: corp-root2
            certificate_path: {material['ca2']}
          register: wrong
          ignore_errors: true
        - keystores.keystores.entry:
            store: "{{{{ dir }}}}/trust.jks"
            password: {JKS_PW}
            label: untrusted
            certificate_path: {material['ca2']}
            trusted: false
          register: untrusted
          ignore_errors: true
        - keystores.keystores.entry:
            store: "{{{{ dir }}}}/inline.p12"
            password: {JKS_PW}
            label: qm1
            certificate: "{{{{ lookup('ansible.builtin.file', '{material['cert']}') }}}}"
            private_key: "{{{{ lookup('ansible.builtin.file', '{material['key']}') }}}}"
            private_key_password: {KEY_PW}
          diff: true
        - ansible.builtin.assert:
            that:
              - wrong is failed
              - wrong.rc == 3
              - wrong.error_kind == 'WrongPassword'
              - "'trust.jks: wrong store password' in wrong.msg"
              - untrusted.error_kind == 'CapabilityError'
              - "'holds only trusted certificates' in untrusted.msg"
    """
    result = ansible.play(playbook, "-vvv", limit="localhost,other,bare")
    counts = recap(result)
    for host in ("localhost", "other"):
        assert counts[host]["failed"] == 0 and counts[host]["ignored"] == 2, result.stdout
    assert counts["bare"]["failed"] == 1
    output = result.stdout + result.stderr
    assert output.count('"error_kind": "WrongPassword"') == 2
    assert "Failed to import the required Python library (keystores)" in output
    assert "pip install keystores" in output
    for secret in (STORE_PW, JKS_PW, KEY_PW, key_body, key_body[10:40]):
        assert secret not in output
    with keystores.open_store(ansible.work / "other" / "inline.p12", password=JKS_PW) as store:
        assert store.get("qm1").certificate.serial_number == 1001


def test_a_token_entry_is_idempotent_and_check_mode_leaves_the_token_alone(softhsm, tmp_path: Path,  # noqa: F811
                                                                            collections_path: Path,
                                                                            other_python: str,
                                                                            material: dict[str, Path]) -> None:
    token = softhsm.make_token()
    ansible = Ansible(tmp_path, collections_path, other_python)  # made now: its environment names the token
    playbook = f"""
    - hosts: localhost
      gather_facts: false
      tasks:
        - keystores.keystores.entry:
            store: "{token.uri}"
            password: "{token.pin}"
            label: qm1
            certificate_path: {material['cert']}
            private_key_path: {material['key']}
            private_key_password: {KEY_PW}
        - keystores.keystores.entry:
            store: "{token.uri}"
            password: "{token.pin}"
            label: corp-root
            certificate_path: {material['ca']}
    """
    dry = ansible.play(playbook, "--check", limit="localhost")
    assert recap(dry)["localhost"]["changed"] == 2 and token.objects() == []
    assert recap(ansible.play(playbook, limit="localhost"))["localhost"]["changed"] == 2
    objects = token.objects()
    assert {(o["type"], o.get("label")) for o in objects} >= {("Private Key", "qm1"), ("Certificate", "qm1"),
                                                              ("Certificate", "corp-root")}
    again = ansible.play(playbook, limit="localhost")
    assert recap(again)["localhost"]["changed"] == 0, again.stdout
    assert token.objects() == objects


# --- what ansible-test sanity checks on documentation and argument specs ------------------------------------------

def _argument_spec(name: str) -> dict:
    """The argument spec the module gives AnsibleModule, captured as validate-modules captures it (it imports the
    module with AnsibleModule replaced)."""
    code = textwrap.dedent(f"""
        import json, runpy, sys
        import ansible.module_utils.basic as basic
        class Captured(Exception):
            pass
        def capture(self, argument_spec, **kwargs):
            print(json.dumps({{"spec": argument_spec, "kwargs": {{k: v for k, v in kwargs.items()
                                                                  if k == "add_file_common_args"}}}}))
            raise Captured
        basic.AnsibleModule.__init__ = capture
        try:
            runpy.run_module("ansible_collections.keystores.keystores.plugins.modules.{name}", run_name="__main__")
        except Captured:
            pass
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = _run([sys.executable, "-c", code], env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _compare(options: dict, spec: dict, where: str) -> None:
    assert set(options) == set(spec), f"{where}: documented {sorted(set(options) ^ set(spec))} differ"
    for name, arg in spec.items():
        doc = options[name]
        assert doc.get("type", "str") == arg.get("type", "str"), f"{where}.{name}: type"
        assert bool(doc.get("required", False)) == bool(arg.get("required", False)), f"{where}.{name}: required"
        assert doc.get("default") == arg.get("default"), f"{where}.{name}: default"
        assert doc.get("choices") == arg.get("choices"), f"{where}.{name}: choices"
        assert doc.get("elements") == arg.get("elements"), f"{where}.{name}: elements"
        assert sorted(doc.get("aliases", [])) == sorted(arg.get("aliases", [])), f"{where}.{name}: aliases"
        if "options" in arg:
            _compare(doc["suboptions"], arg["options"], f"{where}.{name}")
        if "password" in name or name == "private_key":
            assert arg.get("no_log") is True, f"{where}.{name}: a secret must be no_log"


def test_documentation_agrees_with_the_argument_spec(collections_path: Path) -> None:
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections_path), "ANSIBLE_NOCOLOR": "1"}
    names = [f"keystores.keystores.{name}" for name in MODULES]
    shown = _run([str(BIN / "ansible-doc"), "--json", *names], env=env)
    assert shown.returncode == 0, shown.stderr
    docs = json.loads(shown.stdout)
    for name in MODULES:
        doc = docs[f"keystores.keystores.{name}"]
        captured = _argument_spec(name)
        spec = dict(captured["spec"])
        if captured["kwargs"].get("add_file_common_args"):
            from ansible.module_utils.basic import FILE_COMMON_ARGUMENTS

            spec.update({k: v for k, v in FILE_COMMON_ARGUMENTS.items() if k in doc["doc"]["options"]})
            assert {"mode", "owner", "group"} <= set(spec)
        _compare(doc["doc"]["options"], spec, name)
        assert doc["examples"].strip() and doc["return"], name
        assert doc["doc"]["attributes"]["check_mode"]["support"] == "full"
    text = _run([str(BIN / "ansible-doc"), *names], env=env)
    assert text.returncode == 0 and text.stdout.count("RETURN VALUES") == len(MODULES), text.stderr


def test_the_collection_compiles_and_its_yaml_parses() -> None:
    import yaml

    for path in COLLECTION.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")
    galaxy = yaml.safe_load((COLLECTION / "galaxy.yml").read_text())
    assert (galaxy["namespace"], galaxy["name"]) == ("keystores", "keystores")
    assert galaxy["version"] == keystores.__version__
    for name in MODULES:
        source = (COLLECTION / "plugins" / "modules" / f"{name}.py").read_text()
        namespace: dict = {}
        exec(source.split("\nimport ")[0], namespace)  # the three documentation strings, nothing imported
        for part in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
            assert yaml.safe_load(namespace[part]), (name, part)


@pytest.mark.slow
def test_ansible_test_sanity(tmp_path: Path) -> None:
    """The real `ansible-test sanity` (all tests, in venvs it makes). Its pip bootstrap comes from a host that CI
    cannot reach, so a stand-in made from the interpreter's own ensurepip is put where ansible-test caches it."""
    import ansible_test

    cache = tmp_path / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True)
    pinned = (Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()
    version = re.search(r"pip='([\d.]+)'", pinned)
    assert version, "cannot find the pip version ansible-test bootstraps"
    (cache / f"get_pip_{version.group(1).replace('.', '_')}.py").write_text(textwrap.dedent("""
        import subprocess, sys
        subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
        args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", *args])
    """))
    env = {**os.environ, "HOME": str(tmp_path)}
    result = subprocess.run([str(BIN / "ansible-test"), "sanity", "--python",
                             f"{sys.version_info.major}.{sys.version_info.minor}", "--venv"], cwd=COLLECTION,
                            env=env, capture_output=True, text=True, timeout=1200)
    shutil.rmtree(COLLECTION / "tests" / "output", ignore_errors=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
