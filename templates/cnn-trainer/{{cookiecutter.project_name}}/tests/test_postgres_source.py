def test_pg():
    pass
