/**
 * `scimctl completion bash|zsh|fish`: a completion script for the shell. The script asks scimctl itself for the
 * candidates on each Tab (`scimctl __complete WORD…`, complete.ts), so commands, options and profile names are always
 * those of the scimctl installed, and a new profile completes without regenerating the script. Where scimctl has no
 * candidates (a file argument), the shell completes file names.
 */
import { writeChunk } from '../output/iostreams.ts';
import { defineCommand } from './context.ts';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const BASH = `# scimctl completion for bash. Install:
#   scimctl completion bash > ~/.local/share/bash-completion/completions/scimctl
# (or add  source <(scimctl completion bash)  to ~/.bashrc)
_scimctl_complete() {
  local IFS=$'\\n'
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  COMPREPLY=($(scimctl __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
  if [ "\${#COMPREPLY[@]}" -eq 0 ]; then
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -F _scimctl_complete scimctl
`;

const ZSH = `#compdef scimctl
# scimctl completion for zsh. Install: scimctl completion zsh > ~/.zfunc/_scimctl, with  fpath=(~/.zfunc $fpath)
# before compinit in ~/.zshrc; then start a new shell (or add  source <(scimctl completion zsh)  after compinit)
_scimctl() {
  local -a candidates
  candidates=("\${(@f)$(scimctl __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  candidates=("\${(@)candidates:#}")
  if (( \${#candidates} )); then
    compadd -Q -- "\${(@)candidates}"
  else
    _files
  fi
}
if [ "\${funcstack[1]}" = "_scimctl" ]; then
  _scimctl "$@"
else
  compdef _scimctl scimctl
fi
`;

const FISH = `# scimctl completion for fish. Install: scimctl completion fish > ~/.config/fish/completions/scimctl.fish
function __scimctl_candidates
    set -l words (commandline -opc)
    set -e words[1]
    set -l found (scimctl __complete -- $words (commandline -ct) 2>/dev/null)
    test (count $found) -gt 0; or return 1
    printf '%s\\n' $found
end
complete -c scimctl -f -n '__scimctl_candidates >/dev/null' -a '(__scimctl_candidates)'
complete -c scimctl -F -n 'not __scimctl_candidates >/dev/null'
`;

export const COMPLETION_SCRIPTS: Record<Shell, string> = { bash: BASH, zsh: ZSH, fish: FISH };

export const completionCommand = defineCommand({
  command: 'completion <shell>',
  describe: 'Print a shell completion script (bash, zsh or fish)',
  builder: (y) =>
    y
      .positional('shell', { type: 'string', choices: SHELLS, demandOption: true, describe: 'Your shell' })
      .example('scimctl completion bash > ~/.local/share/bash-completion/completions/scimctl', 'bash')
      .example('scimctl completion zsh > ~/.zfunc/_scimctl', 'zsh (with ~/.zfunc on $fpath)')
      .example('scimctl completion fish > ~/.config/fish/completions/scimctl.fish', 'fish'),
  run: async (argv, f) => {
    await writeChunk(f.io.stdout, COMPLETION_SCRIPTS[argv.shell as Shell]);
  },
});
