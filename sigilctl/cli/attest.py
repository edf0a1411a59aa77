"""``sigilctl attest RUN --key KEY`` signs a run's provenance; ``attest keygen DIR`` makes keys."""

from pathlib import Path
from typing import Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption

KEYGEN = "keygen"


def attest(
    run: Annotated[
        str,
        typer.Argument(
            metavar="RUN | keygen",
            help="A run (dir, run_id, unique prefix, job id); or 'keygen' to make a key pair.",
        ),
    ],
    folder: Annotated[
        Path | None,
        typer.Argument(metavar="[DIR]", help="With keygen: the folder for the new key pair."),
    ] = None,
    key: Annotated[
        Path | None,
        typer.Option("--key", help="Ed25519 private key (PEM, PKCS#8).", show_default=False),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Envelope file (default: the run's own, under "
            "<artifacts>/.sigilctl/attestations/).",
            show_default=False,
        ),
    ] = None,
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Sign an in-toto/SLSA provenance statement of a run (DSSE, Ed25519), outside the run.

    `sigilctl attest keygen DIR` writes attestation.key.pem (0600) and attestation.pub.pem.
    """
    from sigilctl.cli import output
    from sigilctl.errors import InputError

    if run == KEYGEN and folder is not None:
        from sigilctl.audit.keys import generate_keypair

        private, public, keyid = generate_keypair(folder)
        if json_output:
            output.emit_json(
                {"private_key": str(private), "public_key": str(public), "keyid": keyid}
            )
        else:
            output.stdout().print(
                f"private key  {private} (mode 0600: keep it secret)\npublic key   {public}\n"
                f"keyid        {keyid}",
                markup=False,
                highlight=False,
            )
        return
    if folder is not None:
        raise InputError(f"unexpected argument '{folder}' (only 'attest keygen DIR' takes one)")
    if key is None:
        raise InputError(
            "--key KEY is required to sign (make one with 'sigilctl attest keygen DIR')"
        )
    from sigilctl.audit.attest import attest_run
    from sigilctl.lookup import locate_run
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, artifacts)
    outcome = attest_run(locate_run(run, workspace), key, out, workspace.artifacts)
    if json_output:
        output.emit_json(outcome.as_json())
        return
    state = "added to" if outcome.added else "already in"
    output.stdout().print(
        f"attestation  {outcome.path} ({state})\nrun_id       {outcome.run_id}\n"
        f"keyid        {outcome.keyid}\nsubjects     {outcome.subjects} output file(s)\n"
        f"dependencies {outcome.dependencies} input snapshot(s)",
        markup=False,
        highlight=False,
    )
