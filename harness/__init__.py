"""Running the assistant from Python for the tests and the benchmarks: never imported by the servers.

`servers` starts the real action and Rasa servers on free ports (as `make run` does), `rest_client`
talks to them over REST as many parents at once, and `model` loads a trained model in-process to
parse messages as the Rasa server would.
"""
