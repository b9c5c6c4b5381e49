"""The read planner: read documents compiled into one SQL statement per root field."""
