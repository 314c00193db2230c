import { z } from 'zod'

/** How a user who manages torch installs it (sd-scripts' tested build as the example command). */
const TORCH_FIX =
  'This environment leaves torch to you (torch: none). Install torch and torchvision into it, e.g. ' +
  '{{command}} (or the build your GPU needs), then press Resume (or Verify).'

/** Where the torch index is set, and the two kinds of index it may be. */
const TORCH_INDEX_ADVICE =
  'The torch index is set with --torch-index-url (Settings → Downloads and mirrors): a torch index root ' +
  '(https://download.pytorch.org/whl or a mirror of it) or a PyPI-style index (PyPI or a mirror of it, e.g. ' +
  "https://pypi.org/simple: PyPI's Linux torch is a CUDA build, its Windows torch CPU-only)."

/** A wrong sd-scripts source: Resume would fetch it again, so it must be changed. */
const SOURCE_ADVICE =
  'Resume would fetch the same source again. Choose another sd-scripts source (--source, or Settings → ' +
  'Downloads and mirrors: a git URL or a local sd-scripts checkout), then Install again.'

/**
 * How an existing install (registered with "use existing", never modified, so Repair does not apply)
 * gets torch: by hand, with the command for its own Python, or by installing a managed environment.
 */
const EXISTING_TORCH_FIX =
  'This is an existing install, which SDXL Studio never modifies (Repair does not apply): install torch ' +
  'and torchvision into its venv yourself, e.g. {{command}} (or the build your GPU needs), then press ' +
  'Verify. Or install an environment that SDXL Studio manages (Install).'

/** How an existing install whose folders moved is used again: forgotten, then registered where it is. */
const EXISTING_AGAIN =
  'Remove the environment on the Environment page (an existing install is only forgotten, no file is ' +
  'deleted) and register the install again where it is now (env use-existing <folder> --name {{env}}, with --venv <folder> when its ' +
  'venv is elsewhere), or activate another environment.'

/**
 * English templates of what the environment plan, the prechecks, the install and Verify say, by code.
 * Plan steps, problems and failures carry their code and parameters next to the English text, so the
 * Environment page shows them in the UI language (env.json: codes.*; tests/unit/i18n-codes.test.ts
 * keeps the English copy there equal to this table).
 */
export const ENV_MESSAGES = {
  // Step titles
  step_uv_get: 'Get uv',
  step_python_get: 'Get Python {{range}}',
  step_python_install: 'Install Python {{version}} with uv',
  step_source_git: 'Fetch sd-scripts {{tag}} with git',
  step_source_copy: 'Copy sd-scripts from {{source}} (git is missing, so the folder is copied as it is)',
  step_source_archive: 'Download the sd-scripts {{tag}} release archive (git is missing)',
  step_venv: 'Create the virtual environment (Python {{version}})',
  step_torch_any: 'Install torch and torchvision',
  step_torch: 'Install torch {{torch}} and torchvision {{torchvision}} ({{index}})',
  step_torch_pypi: 'Install torch {{torch}} and torchvision {{torchvision}} (PyPI build, CUDA {{cuda}})',
  step_torch_pypi_cpu: 'Install torch {{torch}} and torchvision {{torchvision}} (PyPI build, CPU)',
  step_requirements: "Install sd-scripts' requirements (and its library package)",
  step_extras: 'Install LyCORIS and optimizer packages ({{packages}})',
  step_accelerate: "Write accelerate's default config",
  step_tokenizers_any: 'Pre-fill the tokenizer cache',
  step_tokenizers: 'Pre-fill the SDXL tokenizer cache for offline training',
  step_verify: 'Verify the environment',
  // Why a step has nothing to do
  skip_pip_chosen: 'The pip installer was chosen.',
  skip_uv_on_path: 'Using uv at {{path}}.',
  skip_python_found: 'Using Python {{version}} at {{path}}.',
  skip_torch_none:
    'torch is managed by you (torch: none): install torch and torchvision into the venv yourself; verify checks them.',
  skip_no_extras: 'This version needs no extra packages.',
  skip_tokenizers_torch_none: 'Skipped with torch: none (the environment is not complete for training yet).',
  // Which torch build, and why
  torch_why_cpu: 'CPU-only build, as chosen',
  torch_why_new_arch:
    '{{gpu}} is an RTX 50 / Blackwell-class GPU: torch {{torch}} ({{index}}); driver supports CUDA {{cuda}}',
  torch_why_newest: 'newest CUDA build the driver supports (CUDA {{cuda}}) for {{gpu}}',
  // Which kind of torch index, and how that was found out
  torch_index_official: 'the official PyTorch index has one folder per build',
  torch_index_has_build: '{{url}} has /{{build}}/torch/: a torch index root',
  torch_index_flat: '{{url}} serves /torch/ directly: a PyPI-style index',
  torch_index_name_pypi: '{{url}} ends in /simple, so it is taken as a PyPI-style index',
  torch_index_name_pypi_no_page:
    '{{url}} ends in /simple, so it is taken as a PyPI-style index (it has no /torch/ page)',
  torch_index_name_pypi_unasked:
    '{{url}} ends in /simple, so it is taken as a PyPI-style index (it could not be asked)',
  torch_index_name_root: '{{url}} is taken as a torch index root (/<build> is appended)',
  torch_index_name_root_no_page:
    '{{url}} is taken as a torch index root (/<build> is appended) (it has no /torch/ page)',
  torch_index_name_root_unasked:
    '{{url}} is taken as a torch index root (/<build> is appended) (it could not be asked)',
  // Which build a PyPI-style index serves
  torch_pypi_cpu: "PyPI's torch {{torch}} for {{os}} is the CPU-only build",
  torch_pypi_cuda: "PyPI's torch {{torch}} for {{os}} is the CUDA {{cuda}} build",
  torch_pypi_cuda_on_cpu:
    "PyPI's torch {{torch}} for {{os}} is the CUDA {{cuda}} build (it runs on the CPU too)",
  // Why there is no plan
  plan_torch_none_needs_uv: `torch "none" (you install torch yourself) needs the uv installer: sd-scripts' requirements depend on torch (accelerate, diffusers[torch]), and only uv can install them while leaving torch out (--excludes); pip would download a torch from the package index. Choose the uv installer, or let the app install torch (auto or cpu).`,
  plan_unknown_version: 'sd-scripts {{version}} is not a supported version. Supported: {{supported}}.',
  plan_no_gpu:
    'No NVIDIA GPU was found (nvidia-smi is missing or lists no GPU). sd-scripts trains on NVIDIA GPUs: install or update the NVIDIA driver and check that `nvidia-smi` lists your card. To build a CPU-only environment anyway (it cannot train SDXL in practice), choose torch "cpu" (--torch cpu); if you install torch yourself, choose "none" (--torch none).',
  plan_driver_unknown:
    'Could not tell which CUDA version the NVIDIA driver supports (nvidia-smi printed no CUDA version). Update the NVIDIA driver to a current release, or choose the torch build yourself (--torch none, then install torch).',
  plan_gpu_unsupported:
    '{{gpu}} (compute capability {{cap}}) is too old for current PyTorch builds, which need compute capability {{min}} or newer. Use a newer NVIDIA GPU.',
  plan_driver_too_old_new_arch:
    '{{gpu}} needs PyTorch {{torch}} built for CUDA {{need}}, but the NVIDIA driver supports CUDA {{have}} at most. Update the NVIDIA driver (570 or newer), then plan again.',
  plan_driver_too_old:
    'The NVIDIA driver supports CUDA {{have}} at most; PyTorch {{torch}} needs CUDA {{need}} or newer. Update the NVIDIA driver (520 or newer; 550+ for CUDA 12.4), then plan again.',
  plan_no_python_pip_found:
    'Found Python {{versions}}, but sd-scripts {{tag}} needs Python {{range}}, and the pip installer cannot fetch one. Install Python {{install}}, or use the uv installer, which downloads it.',
  plan_no_python_pip_none:
    'No Python found. Install Python {{install}} (python.org; on Windows tick "Add to PATH"), or use the uv installer.',
  plan_no_git_archive:
    'git is not installed, and {{source}} is not a GitHub address, so there is no release archive to download. Install git (https://git-scm.com), or point the source at a local sd-scripts folder.',
  plan_torch_not_on_pypi:
    'torch {{torch}} is not known to be on PyPI for {{os}}, so the PyPI-style index {{index}} cannot provide the {{build}} build. Give a torch index root instead (--torch-index-url https://download.pytorch.org/whl, or a mirror of it).',
  plan_torch_pypi_cpu_only:
    '{{index}} is a PyPI-style index, and PyPI\'s torch {{torch}} for {{os}} is the CPU-only build: {{gpu}} would not be used and SDXL training would not run in practice. Give a torch index with CUDA builds (--torch-index-url https://download.pytorch.org/whl, or a mirror of it that has /{{build}}), or choose torch "cpu" (--torch cpu) if a CPU-only environment is what you want.',
  plan_torch_pypi_driver_too_old:
    "PyPI's torch {{torch}} for {{os}} is built for CUDA {{cuda}}, but the NVIDIA driver supports CUDA {{have}} at most. Update the NVIDIA driver, or give a torch index root that has the {{build}} build (--torch-index-url https://download.pytorch.org/whl, or a mirror of it).",
  plan_source_folder_missing:
    'The sd-scripts source is neither a git URL nor an existing folder: "{{source}}". Enter a git URL (https://…/sd-scripts.git) or the path of a local sd-scripts checkout.',
  plan_source_not_folder:
    'The sd-scripts source is a file, not a folder: "{{source}}". Choose the sd-scripts folder itself, or enter a git URL.',
  step_uv_fetch: "Download uv {{version}} from {{index}} (checked against the index's sha256)",
  step_python_install_mirror: 'Install Python {{version}} with uv from {{mirror}}',
  // Sources that are refused before any plan is made
  source_empty: 'The sd-scripts source is empty. Enter a git URL or the path of a local sd-scripts folder.',
  source_control_chars:
    'The sd-scripts source {{source}} contains a line break or another control character. Enter it on one line.',
  source_surrounding_space:
    'The sd-scripts source {{source}} starts or ends with a space. Remove the spaces around it.',
  source_leading_dash:
    'The sd-scripts source {{source}} starts with "-", which git would read as an option. Enter a git URL (https://…/sd-scripts.git) or the full path of a folder (for a folder named like that, write ./{{folder}}).',
  source_scheme:
    'The sd-scripts source {{source}} uses "{{scheme}}", which is not allowed. Use an https, http, ssh, git or file URL, user@host:path, or a local folder.',
  source_url_space: 'The sd-scripts URL {{source}} contains a space. Write it as %20, or check the URL.',
  source_bad_url: 'The sd-scripts URL {{source}} is not a valid address. Check it, or use a local folder.',
  source_no_host: 'The sd-scripts URL {{source}} has no host name. Check it, or use a local folder.',
  source_ssh_dash:
    'The sd-scripts URL {{source}} has a host or user name starting with "-", which ssh would read as an option. Check the URL.',
  // Mirror and proxy addresses that are refused before they are saved or used ({{field}}: ENV_FIELD_LABELS)
  mirror_not_url:
    'The {{field}} is not a web address: "{{value}}". Enter a full URL such as {{example}}, or leave it empty to use the default.',
  mirror_scheme:
    'The {{field}} must start with http:// or https://, not "{{scheme}}": "{{value}}". Enter a web address, or leave it empty to use the default.',
  mirror_space:
    'The {{field}} contains a space or a control character: "{{value}}". Enter the address on one line, spaces written as %20.',
  mirror_scheme_folder:
    'The {{field}} must start with http://, https:// or file://, not "{{scheme}}": "{{value}}". Enter a web address or the file:// address of a folder, or leave it empty to use the default.',
  mirror_path_not_url:
    'The {{field}} is a folder path, not an address: "{{value}}". Write it as a file:// address: {{suggested}}',
  mirror_file_host:
    'The {{field}} names the computer "{{host}}": "{{value}}". A file:// address must name a folder on the machine that runs the installs, with three slashes (file:///srv/wheels/simple); mount a share from another computer there first.',
  mirror_file_windows_path:
    'The {{field}} is a Windows path, but the installs run on Linux: "{{value}}". Enter a folder on the Linux machine (when SDXL Studio is used in a browser, that is the GPU server), such as file:///srv/wheels/simple.',
  mirror_file_no_drive:
    'The {{field}} has no drive letter: "{{value}}". On Windows write the folder with its drive, such as file:///C:/wheels/simple, or a share as file://server/share/wheels.',
  mirror_file_bad_path:
    'The {{field}} is not a usable folder address: "{{value}}" (an escaped slash or NUL cannot be part of a folder name). Write the folder\'s path after file:///.',
  mirror_folder_missing:
    'The {{field}} folder does not exist: {{path}} (from "{{value}}"). It must be on the machine that runs the installs (when SDXL Studio is used in a browser, that is the GPU server, not this computer). Check the path, or leave the field empty to use the default.',
  mirror_not_folder:
    'The {{field}} is a file, not a folder: {{path}} (from "{{value}}"). Enter the folder itself (for a package index, the folder that holds one folder per package, such as …/simple).',
  mirror_folder_flat:
    'The {{field}} folder holds package files but is not a package index: {{path}}. pip and uv read a PyPI-style index there: one folder per package, each with an index.html that links its files. Build one from these files (docs/environment.md shows how) and enter its folder.',
  setting_password_masked:
    'The {{field}} address was changed, so its stored password no longer applies. Type the password again in place of {{mask}}.',
  // Prechecks
  pre_disk_short:
    'Not enough free space for the environment: {{free}} GB free where {{dir}} is, about {{need}} GB needed. Free some space or choose a folder on another drive.',
  pre_disk_tight:
    'Free space is tight: {{free}} GB free, about {{need}} GB needed plus room for download caches. The install may fail with "No space left on device"; freeing space first is safer.',
  pre_not_writable: 'Cannot write to {{dir}} ({{error}}). Choose a folder you own, or fix its permissions.',
  pre_filesystem:
    '{{dir}} is on a {{fs}} drive. Python environments need NTFS (Windows) or a Linux file system (ext4, btrfs, xfs): FAT32 cannot hold files over 4 GB and FAT/exFAT lack the links and permissions venvs use. Choose a folder on another drive.',
  pre_onedrive:
    '{{dir}} is inside a OneDrive folder{{root}}. OneDrive syncs and locks the tens of thousands of files a Python environment has, and "files on demand" leaves placeholders Python cannot read. Choose a folder outside OneDrive, e.g. {{example}}.',
  pre_cloud:
    '{{dir}} looks like a cloud-synced folder. Syncing a Python environment is slow and can lock files during the install; a folder outside it is safer.',
  pre_path_char_windows:
    "The folder path contains \"{{char}}\", which breaks Python tools started through Windows command scripts ({{dir}}). Choose a path with letters, digits, spaces, '-', '_' and '.' only.",
  pre_path_non_ascii:
    'The folder path has non-English letters ({{dir}}). Most tools cope, but some Python packages fail to load from such paths on Windows. If the install or training fails, use a path like C:\\SDXL-Studio\\envs.',
  pre_path_length:
    "The folder path is {{length}} characters long; files deep inside the environment may exceed Windows' 260-character limit. Use a shorter path, or enable long paths in Windows.",
  pre_path_char_posix:
    "The folder path contains {{char}}, which breaks PATH and Python's module search path ({{dir}}). Choose another folder.",
  pre_git_archive:
    'git is not installed: the sd-scripts release archive will be downloaded instead. Install git (https://git-scm.com) for faster updates.',
  pre_git_copy:
    'git is not installed: the local sd-scripts folder will be copied as it is (its tag cannot be checked). Install git (https://git-scm.com) to check out the exact version.',
  pre_python_pip_found:
    'Found Python {{versions}}; sd-scripts {{tag}} needs Python {{range}}. Install Python {{install}}, or use the uv installer, which downloads it.',
  pre_python_pip_too_new:
    'Found Python {{versions}}; sd-scripts {{tag}} needs Python {{range}} (newer versions are untested and some packages have no wheels). Install Python {{install}}, or use the uv installer, which downloads it.',
  pre_python_pip_none:
    'No Python found; sd-scripts {{tag}} needs Python {{range}}. Install Python {{install}}, or use the uv installer, which downloads it.',
  pre_python_uv_found: 'Found Python {{versions}}; uv will download Python {{install}} for this environment.',
  pre_python_uv_none: 'No Python found; uv will download Python {{install}} for this environment.',
  pre_python_uv_fetch_found:
    'Found Python {{versions}}; uv (downloaded from the PyPI index first) will download Python {{install}} for this environment.',
  pre_python_uv_fetch_none:
    'No Python found; uv (downloaded from the PyPI index first) will download Python {{install}} for this environment.',
  pre_folder_foreign:
    '{{dir}} already holds files that SDXL Studio did not put there ({{names}}). An environment needs a folder of its own: installing here could replace them, and removing the environment later could delete them. Choose a new or empty folder.',
  pre_folder_foreign_install:
    '{{dir}} already holds files that SDXL Studio did not put there ({{names}}). An environment needs a folder of its own: installing here could replace them, and removing the environment later could delete them. Choose a new or empty folder; to use the sd-scripts install that is there as it is, choose "Use existing" (env use-existing {{dir}}).',
  pre_folder_file: '{{dir}} is a file, not a folder. Choose a new or empty folder for the environment.',
  pre_folder_other_env:
    '{{dir}} holds the environment "{{env}}". Remove that environment first, or choose another folder.',
  pre_path_bad_segment:
    'The folder name "{{segment}}" in {{dir}} starts or ends with a space, ends with a dot, or is a reserved device name; Windows programs cannot open such folders. Rename it or choose another folder.',
  // Install failures: what failed (the step), the evidence from its log, and what to do
  fail_disk_full:
    '{{step}} failed: {{evidence}}\nThe disk is full. Free some space (or choose an environment folder on another drive), then press Resume.',
  fail_read_only:
    '{{step}} failed: {{evidence}}\nA folder could not be written (read-only or no permission). Make the environment folder writable (or choose another), then press Resume.',
  fail_tag_missing:
    '{{step}} failed: {{evidence}}\nThe sd-scripts source has no such version tag. Check the source address (a mirror may lag behind) or pick another version.',
  fail_network:
    '{{step}} failed: {{evidence}}\nThe network failed while downloading. Check the connection (or set a mirror: --index-url, --torch-index-url, --hf-endpoint), then press Resume.',
  fail_bad_package:
    '{{step}} failed: {{evidence}}\nA required package or version was not found on the package index. If you use a PyPI mirror (--index-url), check that it is complete; otherwise the requirement is wrong.',
  fail_build_tools_missing:
    '{{step}} failed: {{evidence}}\nThe package index has no setuptools or wheel, which pip and uv need to build packages that come as source (sd-scripts\' own library among them). Add setuptools and wheel to the index (for a folder of wheels: "pip download -d <folder> setuptools wheel", then make the index again), then press Resume.',
  fail_command_exit:
    '{{step}} failed: the command exited with code {{exit}}. Last lines of its log:\n{{evidence}}\nFix the cause shown above, then press Resume.',
  fail_command_stopped:
    '{{step}} failed: the command was stopped. Last lines of its log:\n{{evidence}}\nFix the cause shown above, then press Resume.',
  fail_interrupted: '{{step}} was stopped. Press Resume to continue.',
  fail_torch_network: `{{step}} failed: {{evidence}}\nThe network failed while downloading torch. Check the connection, or set another torch index, then press Resume. ${TORCH_INDEX_ADVICE}`,
  fail_torch_bad_package: `{{step}} failed: {{evidence}}\nThe torch index has no such torch build. Check the torch index, then press Resume. ${TORCH_INDEX_ADVICE}`,
  fail_source: `{{step}} failed: {{evidence}}\n${SOURCE_ADVICE}`,
  fail_source_exit: `{{step}} failed: the command exited with code {{exit}}. Last lines of its log:\n{{evidence}}\n${SOURCE_ADVICE}`,
  fail_source_stopped: `{{step}} failed: the command was stopped. Last lines of its log:\n{{evidence}}\n${SOURCE_ADVICE}`,
  fail_not_on_path:
    '{{step}} failed: "{{file}}" was not found on PATH. Install it (or fix PATH), then press Resume.',
  fail_file_missing:
    '{{step}} failed: {{file}} does not exist (an earlier step did not finish?). Repair the environment.',
  fail_probe_no_report: '{{step}} failed: the probe wrote no report ({{file}}).',
  fail_probe_bad_report: '{{step}} failed: the probe report has an unexpected shape.',
  fail_verify: 'The environment does not verify:\n{{problemLines}}\nPress Repair to fix it.',
  // Verify
  probe_python:
    'The environment runs Python {{version}}; sd-scripts needs {{min}}–{{max}}. Repair recreates the venv.',
  probe_python_existing:
    'The environment runs Python {{version}}; sd-scripts needs {{min}}–{{max}}. This is an existing install, which SDXL Studio never modifies (Repair does not apply): recreate its venv with Python {{min}}–{{max}} yourself, or install an environment that SDXL Studio manages (Install).',
  probe_not_venv: '{{python}} is not a virtual environment.',
  probe_source_missing: 'The sd-scripts folder is missing: {{path}}.',
  probe_version: 'sd-scripts is at {{tag}}, expected {{expected}}.',
  probe_no_requirements: 'sd-scripts has no requirements.txt: the checkout is incomplete.',
  /** (Records of earlier versions; the three below replace it.) */
  probe_requirements: "sd-scripts' requirements are not all installed: {{details}}.",
  probe_requirements_missing: "sd-scripts' requirements are not all installed: missing {{missing}}.",
  probe_requirements_versions:
    "sd-scripts' requirements are not all installed: installed versions differ from sd-scripts' pins: {{versions}}.",
  probe_requirements_both:
    "sd-scripts' requirements are not all installed: missing {{missing}}; installed versions differ from sd-scripts' pins: {{versions}}.",
  probe_library: "sd-scripts' library package does not import: {{error}}.",
  probe_extras: 'Extra packages are missing: {{packages}}.',
  probe_torch_import: 'torch does not import{{error}}.',
  probe_torch_missing: 'torch is not installed. Repair reinstalls it.',
  probe_torch_missing_user: `torch is not installed. ${TORCH_FIX}`,
  probe_torch_import_user: `torch does not import{{error}}. ${TORCH_FIX}`,
  probe_torchvision_missing:
    'torchvision is not installed (sd-scripts needs it beside torch). Repair reinstalls it.',
  probe_torchvision_missing_user: `torchvision is not installed (sd-scripts needs it beside torch). ${TORCH_FIX}`,
  probe_torchvision_import:
    'torchvision does not import{{error}} (sd-scripts needs it beside torch). Repair reinstalls it.',
  probe_torchvision_import_user: `torchvision does not import{{error}} (sd-scripts needs it beside torch). ${TORCH_FIX}`,
  probe_torch_missing_existing: `torch is not installed. ${EXISTING_TORCH_FIX}`,
  probe_torch_import_existing: `torch does not import{{error}}. ${EXISTING_TORCH_FIX}`,
  probe_torchvision_missing_existing: `torchvision is not installed (sd-scripts needs it beside torch). ${EXISTING_TORCH_FIX}`,
  probe_torchvision_import_existing: `torchvision does not import{{error}} (sd-scripts needs it beside torch). ${EXISTING_TORCH_FIX}`,
  torch_fix_user: TORCH_FIX,
  probe_torch_replaced:
    'torch {{installed}} is installed, but this environment uses torch {{torch}} ({{index}}); another install replaced it. Repair reinstalls the planned build.',
  probe_cuda:
    'torch {{version}} cannot use the GPU (CUDA is not available). Update the NVIDIA driver, or Repair to reinstall the CUDA build of torch.',
  probe_script: '{{name}}.py does not import: {{error}}.',
  probe_scripts_unchecked: 'The training scripts were not checked.',
  verify_python_missing: "The environment's Python is missing: {{python}}.",
  verify_python_missing_managed: "The environment's Python is missing: {{python}}. Repair reinstalls it.",
  verify_probe_failed: "The environment's Python could not run the probe (exit {{exit}}): {{output}}",
  // Environment actions that are refused (Install, Resume, Repair, Update, Remove, Use existing)
  env_unknown: 'No environment named "{{env}}". Known: {{known}}.',
  env_unknown_none: 'No environment named "{{env}}". Install one first (env install).',
  env_none_active: 'No environment is active. Install one (env install) or name one (--name).',
  env_busy: 'An install of "{{env}}" is running. Wait for it to finish, or stop it first.',
  env_busy_install:
    'Another install is running (environment "{{env}}", process {{pid}}). Wait for it to finish, or stop it first.',
  env_busy_repair:
    'Another repair is running (environment "{{env}}", process {{pid}}). Wait for it to finish, or stop it first.',
  env_busy_update:
    'Another update is running (environment "{{env}}", process {{pid}}). Wait for it to finish, or stop it first.',
  env_busy_here_install: 'An install of "{{env}}" is already running in this app.',
  env_busy_here_repair: 'A repair of "{{env}}" is already running in this app.',
  env_busy_here_update: 'An update of "{{env}}" is already running in this app.',
  env_lock_stuck: 'Could not take the install lock {{file}}. Delete it if no install is running.',
  env_external_name: '"{{env}}" is an existing install the app does not manage. Pick another name.',
  env_external_unmanaged: '"{{env}}" is an existing install the app does not manage; it is never modified.',
  env_no_install_record: '"{{env}}" has no install record in {{dir}}. Install it again.',
  env_unsupported_version: 'sd-scripts {{version}} is not a supported version.',
  env_remove_unconfirmed: 'Removing an environment needs confirmation (confirm: true).',
  env_remove_installing: '"{{env}}" is being installed. Stop the install first.',
  env_remove_foreign:
    '{{dir}} also holds files the install did not create: {{names}}. Removing the environment would delete them. Move them out of the folder and remove again, or confirm each by name to delete it too (CLI: --confirm-foreign <name>, once per name).',
  env_no_sd_scripts:
    'No sd-scripts found in {{dir}}: expected sdxl_train_network.py (or a kohya_ss folder with sd-scripts/ inside). Choose the sd-scripts folder.',
  env_no_venv: 'No Python virtual environment found (looked in {{dirs}}). Give its folder with --venv.',
  env_name_taken: 'An environment named "{{env}}" exists already. Pick another name.',
  // Why an environment cannot train now (Train's Start, the Environment page's summary, env list)
  ready_not_installed:
    'Environment "{{env}}" has no install record in {{dir}}: it is not installed. Open Environment and click Install, or activate another environment.',
  ready_installing:
    'Environment "{{env}}" is still being installed. Wait for the install to finish and verify, or activate another environment.',
  ready_failed:
    'Environment "{{env}}" is not installed and verified: its install failed at step "{{step}}": {{cause}} Open Environment and press Resume (after fixing the cause), or activate another environment.',
  ready_verify_failed:
    'Environment "{{env}}" is not installed and verified: its install failed at step "{{step}}": {{problems}} Open Environment and press Resume (after fixing the cause), or activate another environment.',
  ready_interrupted:
    'Environment "{{env}}" is not installed and verified: its install was interrupted at step "{{step}}": {{cause}} Open Environment and press Resume (after fixing the cause), or activate another environment.',
  ready_failed_unknown:
    'Environment "{{env}}" is not installed and verified: its install failed. Open Environment and press Resume (after fixing the cause), or activate another environment.',
  ready_interrupted_unknown:
    'Environment "{{env}}" is not installed and verified: its install was interrupted. Open Environment and press Resume (after fixing the cause), or activate another environment.',
  ready_broken:
    'Environment "{{env}}" does not verify: {{problems}} Open Environment and press Repair, or activate another environment.',
  ready_python_missing:
    'The Python of environment "{{env}}" is missing: {{python}}. Open Environment and click Repair, or activate another environment.',
  ready_python_missing_external: `The Python of environment "{{env}}" (an existing install) is missing: {{python}}. ${EXISTING_AGAIN}`,
  ready_source_missing:
    'The sd-scripts folder of environment "{{env}}" is missing: {{dir}}. Open Environment to repair or replace it.',
  ready_source_missing_external: `The sd-scripts folder of environment "{{env}}" (an existing install) is missing: {{dir}}. ${EXISTING_AGAIN}`,
  ready_external_unverified:
    'Environment "{{env}}" (an existing install) has not been verified. Open Environment and press Verify, or activate another environment.',
  ready_external_broken:
    'Environment "{{env}}" (an existing install) cannot train: {{problems}} Fix that install (its venv: {{python}}), then press Verify on the Environment page, or activate another environment.',
} as const

export type EnvCode = keyof typeof ENV_MESSAGES
export type EnvParams = Record<string, string | number>

/**
 * The settings a message names by its `field` parameter: the parameter holds the setting's id, and
 * the text its label (here in English; env.json: fields.*), so the UI names it in its language.
 */
export const ENV_FIELD_LABELS = {
  source: 'sd-scripts source',
  pypiIndex: 'PyPI index',
  torchIndex: 'torch index',
  hfEndpoint: 'Hugging Face endpoint',
  pythonMirror: 'Python download mirror',
  proxy: 'proxy',
} as const
export type EnvSettingField = keyof typeof ENV_FIELD_LABELS

/** A coded message as core makes it: the English text, its code and parameters. */
export interface EnvCodedText {
  message: string
  code: EnvCode
  params: EnvParams
}

/** The parameters as the English text shows them: a setting named by its label, not its id. */
function englishParams(params: EnvParams): EnvParams {
  const field = params.field
  if (typeof field !== 'string' || !(field in ENV_FIELD_LABELS)) return params
  return { ...params, field: ENV_FIELD_LABELS[field as EnvSettingField] }
}

/** The first line of a message, ending in a full stop (a failure named inside another message). */
export function firstSentenceLine(message: string): string {
  const line = (message.split('\n')[0] ?? '').trim().replace(/:$/, '')
  return /[.!?]$/.test(line) ? line : `${line}.`
}

/**
 * How other coded messages fill a placeholder, by its name: Verify's problems inside a failed step
 * as lines, the problems of a last verify as sentences, the failure that stopped an install by its
 * first line. The renderer joins the translated messages with the same functions.
 */
export const ENV_PART_JOINS = {
  problemLines: (texts: string[]) => texts.map((t) => `- ${t}`).join('\n'),
  problems: (texts: string[]) => texts.join(' '),
  cause: (texts: string[]) => firstSentenceLine(texts[0] ?? ''),
} satisfies Record<string, (texts: string[]) => string>
export type EnvPartName = keyof typeof ENV_PART_JOINS

/**
 * A message of the environment domain as it is stored and sent: the English text (what the CLI
 * prints), its code and parameters, the messages that fill its part placeholders, and the install
 * step it is about (the UI names the step in its own words). Records written before codes existed
 * have the text only.
 */
export interface EnvMessage {
  message: string
  code?: string | undefined
  params?: EnvParams | undefined
  parts?: Partial<Record<EnvPartName, EnvMessage[]>> | undefined
  step?: string | undefined
}

const CodeParams = z.record(z.string(), z.union([z.string(), z.number()]))
export const EnvMessageSchema: z.ZodType<EnvMessage> = z.lazy(() =>
  z.object({
    message: z.string(),
    code: z.string().optional(),
    params: CodeParams.optional(),
    parts: EnvParts.optional(),
    step: z.string().optional(),
  }),
)
/** The part placeholders of a coded message (see ENV_PART_JOINS). */
export const EnvParts: z.ZodType<Partial<Record<EnvPartName, EnvMessage[]>>> = z.lazy(() =>
  z.object({
    problemLines: z.array(EnvMessageSchema).optional(),
    problems: z.array(EnvMessageSchema).optional(),
    cause: z.array(EnvMessageSchema).optional(),
  }),
)

/** Parameters with each part placeholder filled by its messages, joined as ENV_PART_JOINS says. */
export function withParts(
  params: EnvParams,
  parts: Partial<Record<EnvPartName, EnvMessage[]>> | undefined,
  text: (m: EnvMessage) => string,
): EnvParams {
  const out = { ...params }
  for (const [name, items] of Object.entries(parts ?? {}) as Array<[EnvPartName, EnvMessage[]]>)
    out[name] = ENV_PART_JOINS[name](items.map(text))
  return out
}

export function envInterpolate(template: string, params: EnvParams = {}): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => (k in params ? String(params[k]) : `{{${k}}}`))
}

/** A message of the environment domain: the English text with its code and parameters. */
export function envText(code: EnvCode, params: EnvParams = {}): EnvCodedText {
  return { message: envInterpolate(ENV_MESSAGES[code], englishParams(params)), code, params }
}

/** A coded message whose part placeholders hold other coded messages (their English text here). */
export function envTextWithParts(
  code: EnvCode,
  params: EnvParams,
  parts: Partial<Record<EnvPartName, EnvMessage[]>>,
): { message: string; code: EnvCode; params: EnvParams; parts: Partial<Record<EnvPartName, EnvMessage[]>> } {
  const message = envInterpolate(
    ENV_MESSAGES[code],
    withParts(englishParams(params), parts, (m) => m.message),
  )
  return { message, code, params, parts }
}
