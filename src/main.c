/*
 * main.c - tagd's entry point: everything is a subcommand (see cli.h).
 */
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
