// SPDX-License-Identifier: Apache-2.0
module liblox.dev/lox

go 1.19
