"""assistance"""
