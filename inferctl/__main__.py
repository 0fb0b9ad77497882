from inferctl.cli.main import run

run()
