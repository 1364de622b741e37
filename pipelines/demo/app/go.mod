module example.com/sluice-demo

go 1.26
