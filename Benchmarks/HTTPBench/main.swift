print("http-bench")
