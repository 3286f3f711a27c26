#!/usr/bin/python
# Copyright fwc contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: fwc
short_description: Apply an fwc firewall policy on a host
description:
  - Runs C(fwc plan) to learn whether the kernel already holds the policy, and
    C(fwc apply) when it does not. fwc replaces only its own C(inet fwc) table,
    in one atomic transaction, and refuses a policy that would drop the SSH
    connection in use.
  - Check mode runs only C(fwc plan) and reports changed when changes are
    pending; diff mode shows the plan.
  - With C(confirm), the policy is rolled back unless a later task with
    C(state=confirmed) runs within the timeout, so a policy that cuts the
    controller off undoes itself.
options:
  state:
    description:
      - C(applied) makes the kernel hold C(policy).
      - C(confirmed) confirms an apply made with C(confirm) (C(fwc confirm));
        unchanged when none is waiting.
      - C(rolled_back) puts back the ruleset from before such an apply
        (C(fwc confirm --rollback)).
    type: str
    choices: [applied, confirmed, rolled_back]
    default: applied
  policy:
    description: Path of the policy on the managed host (a file or a directory). Required with C(state=applied).
    type: path
  confirm:
    description: Roll back after this long (for example C(30s), C(2m)) unless confirmed.
    type: str
  force:
    description: Apply even if the SSH connection in use would be dropped.
    type: bool
    default: false
  netns:
    description: Network namespace (a name or a path) to work in; for tests and containers.
    type: str
  state_dir:
    description: fwc's state directory (C(--state-dir)); fwc's default when omitted.
    type: path
  include_roots:
    description: Directories includes may also read (C(--include-root)).
    type: list
    elements: path
    default: []
  binary:
    description: The fwc executable.
    type: path
    default: fwc
notes:
  - Needs root on the managed host (or CAP_NET_ADMIN), and C(nft) installed.
author:
  - fwc contributors
"""

EXAMPLES = r"""
- name: Install the policy, checked before it replaces the old one
  ansible.builtin.template:
    src: policy.fw.j2
    dest: /etc/fwc/policy.fw
    mode: "0644"
    validate: fwc check %s

- name: Apply it, rolled back in 2 minutes unless confirmed
  fwcproject.fwc.fwc:
    policy: /etc/fwc/policy.fw
    confirm: 2m
  register: firewall

- name: Confirm (this task runs only if the controller still reaches the host)
  fwcproject.fwc.fwc:
    state: confirmed
  when: firewall is changed and not ansible_check_mode
"""

RETURN = r"""
plan:
  description: The output of C(fwc plan), one change a line.
  returned: state=applied
  type: str
stdout:
  description: What the last fwc command printed.
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

# fwc confirm says this (and exits 1) when no apply waits for confirmation.
NOTHING_WAITING = "no apply is waiting for confirmation"


def common_flags(p):
    flags = []
    if p["netns"]:
        flags += ["--netns", p["netns"]]
    if p["state_dir"]:
        flags += ["--state-dir", p["state_dir"]]
    return flags


def run(module, argv):
    # NO_COLOR: the messages end up in Ansible's output, not a terminal.
    return module.run_command(argv, environ_update={"NO_COLOR": "1"})


def fail(module, argv, rc, out, err, msg):
    module.fail_json(msg="%s: %s" % (msg, (err or out).strip()), rc=rc, cmd=argv, stdout=out, stderr=err)


def applied(module, p):
    if not p["policy"]:
        module.fail_json(msg="state=applied needs policy")
    if module.check_mode and not os.path.exists(p["policy"]):
        # An earlier task (a template) would have written it.
        module.exit_json(changed=True, plan="", stdout="", msg="the policy is not on the host yet")
    load = []
    for r in p["include_roots"]:
        load += ["--include-root", r]
    plan = [p["binary"], "plan"] + common_flags(p) + load + [p["policy"]]
    rc, out, err = run(module, plan)
    if rc not in (0, 1):
        # 2: the policy has errors, or a usage or I/O problem.
        fail(module, plan, rc, out, err, "fwc plan failed")
    result = {"changed": rc == 1, "plan": out, "stdout": out}
    if module._diff and rc == 1:
        result["diff"] = {"before_header": "kernel", "after_header": p["policy"], "prepared": out}
    if rc == 0 or module.check_mode:
        module.exit_json(**result)

    apply = [p["binary"], "apply"] + common_flags(p) + load
    if p["confirm"]:
        apply += ["--confirm", p["confirm"]]
    if p["force"]:
        apply += ["--force"]
    apply.append(p["policy"])
    rc, out, err = run(module, apply)
    if rc == 3:
        fail(module, apply, rc, out, err, "fwc apply failed and the kernel's state is unknown (fwc status / fwc confirm --rollback)")
    if rc != 0:
        fail(module, apply, rc, out, err, "fwc apply refused or failed; nothing was applied")
    result["stdout"] = out
    module.exit_json(**result)


def confirm(module, p, rollback):
    argv = [p["binary"], "confirm"] + common_flags(p)
    if rollback:
        argv.append("--rollback")
    if module.check_mode:
        # fwc cannot tell without acting; say nothing changed.
        module.exit_json(changed=False, stdout="")
    rc, out, err = run(module, argv)
    if rc == 0:
        module.exit_json(changed=True, stdout=out)
    if NOTHING_WAITING in err:
        module.exit_json(changed=False, stdout=out)
    fail(module, argv, rc, out, err, "fwc confirm failed")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", default="applied", choices=["applied", "confirmed", "rolled_back"]),
            policy=dict(type="path"),
            confirm=dict(type="str"),
            force=dict(type="bool", default=False),
            netns=dict(type="str"),
            state_dir=dict(type="path"),
            include_roots=dict(type="list", elements="path", default=[]),
            binary=dict(type="path", default="fwc"),
        ),
        required_if=[("state", "applied", ["policy"])],
        supports_check_mode=True,
    )
    p = module.params
    binary = module.get_bin_path(p["binary"], required=True, opt_dirs=["/usr/sbin", "/usr/local/sbin"]) if "/" not in p["binary"] else p["binary"]
    p["binary"] = binary
    if p["state"] == "applied":
        applied(module, p)
    confirm(module, p, p["state"] == "rolled_back")


if __name__ == "__main__":
    main()
