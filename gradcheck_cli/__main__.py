from gradcheck_cli.launcher import main

main()
