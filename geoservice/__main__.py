from geoservice.cli import main

main()
