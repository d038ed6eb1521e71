# hotswapctl.bash - bash completion for hotswapctl(8).
#
# Owns: completing hotswapctl's verbs, options, indicator values, the
# simulator's actions and card names, and slot names asked from the
# running daemon (the socket given with --socket, else $HOTSWAP_SOCKET,
# else the tool's default).  Plain bash (complete -F, compgen): it does
# not need the bash-completion package's helpers.  Installed as
# share/bash-completion/completions/hotswapctl.
#
# SPDX-License-Identifier: BSD-2-Clause

# hotswapctl with the socket of the command line being completed.
_hotswapctl_ask()
{
	local i sock=
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		case ${COMP_WORDS[i]} in
		--socket) sock=${COMP_WORDS[i + 1]} ;;
		--socket=*) sock=${COMP_WORDS[i]#--socket=} ;;
		esac
	done
	"${COMP_WORDS[0]}" ${sock:+--socket "$sock"} "$@" 2>/dev/null
}

# The slot names, in the daemon's list order (first column).
_hotswapctl_slots()
{
	_hotswapctl_ask list | awk 'NR > 1 { print $1 }'
}

_hotswapctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local verbs="list show tree devices status watch history report rules
		decisions add remove replace attention led enable disable
		connect configure unconfigure disconnect
		authorize block reject generate-policy trigger rebalance sim"
	local global="--socket --json --yes --help --version"
	local verb= sub= i w n=0 args=()

	# The verb, the simulator's action and the positional arguments
	# before the word being completed (option values skipped).
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--socket | --after | --count | --limit | --slot | --type | \
		--property | --timeout)
			((i++))
			continue ;;
		-*) continue ;;
		esac
		if [[ -z $verb ]]; then
			verb=$w
		else
			args+=("$w")
		fi
	done
	n=${#args[@]}
	[[ $verb == sim && $n -gt 0 ]] && sub=${args[0]}

	# Values of options.
	case $prev in
	--socket)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--slot)
		COMPREPLY=($(compgen -W "$(_hotswapctl_slots)" -- "$cur"))
		return ;;
	--type)
		COMPREPLY=($(compgen -W "slot-state slot-alert device-added
			device-removed device-moved driver-bound driver-unbound
			policy operator physical service" -- "$cur"))
		return ;;
	--after | --count | --limit | --timeout | --property)
		return ;;
	esac

	if [[ -z $verb ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$global" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
		fi
		return
	fi
	if [[ $cur == -* ]]; then
		case $verb in
		watch) w="--after --count --type --slot --property" ;;
		history) w="--slot --after --limit" ;;
		authorize) w="--slot --permanent" ;;
		block) w=--permanent ;;
		devices) w=--blocked ;;
		attention) w="--timeout" ;;
		sim)
			case $sub in
			pull) w=--surprise ;;
			dma | traffic) w=--count ;;
			*) w= ;;
			esac ;;
		*) w= ;;
		esac
		COMPREPLY=($(compgen -W "$w --json --yes" -- "$cur"))
		return
	fi
	case $verb in
	show | add | remove | replace | enable | disable | connect | configure | \
		unconfigure | disconnect)
		((n == 0)) && COMPREPLY=($(compgen -W "$(_hotswapctl_slots)" -- "$cur")) ;;
	attention)
		if ((n == 0)); then
			COMPREPLY=($(compgen -W "$(_hotswapctl_slots)" -- "$cur"))
		elif ((n == 1)); then
			COMPREPLY=($(compgen -W "on off blink locate" -- "$cur"))
		fi ;;
	led)
		if ((n == 0)); then
			COMPREPLY=($(compgen -W "$(_hotswapctl_slots)" -- "$cur"))
		elif ((n == 1)); then
			COMPREPLY=($(compgen -W "attn=on attn=off attn=blink
				attn=locate power=on power=off power=blink" -- "$cur"))
		fi ;;
	sim)
		if ((n == 0)); then
			COMPREPLY=($(compgen -W "catalog insert pull button latch
				fault advance dma traffic" -- "$cur"))
		elif ((n == 1)); then
			case $sub in
			insert | pull | button | latch | fault | dma)
				COMPREPLY=($(compgen -W "$(_hotswapctl_slots)" -- "$cur")) ;;
			esac
		elif ((n == 2)); then
			case $sub in
			insert)
				COMPREPLY=($(compgen -W "$(_hotswapctl_ask sim catalog |
					awk '{ print $1 }')" -- "$cur")) ;;
			latch)
				COMPREPLY=($(compgen -W "open close" -- "$cur")) ;;
			esac
		fi ;;
	esac
}
complete -F _hotswapctl hotswapctl
