module liblox.dev/lox

go 1.19
